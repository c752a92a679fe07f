package dev.basalt.cli;

import dev.basalt.api.SnapshotInfo;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code basalt snapshots}: the snapshot catalog; {@code basalt snapshots rm NAME...} deletes. */
@Command(name = "snapshots", mixinStandardHelpOptions = true, description = "List snapshots; `snapshots rm NAME...` deletes them.",
        subcommands = SnapshotsCommand.Remove.class)
final class SnapshotsCommand extends BaseCommand {
    @Option(names = "--json", description = "Print a JSON array.")
    boolean json;

    SnapshotsCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        List<SnapshotInfo> all = sandboxes().snapshots();
        if (json) {
            context.out().println(Views.json(all.stream().map(Views::snapshot).toList()));
            return 0;
        }
        String format = "%-24s  %-12s  %-10s  %4s  %7s  %10s  %s%n";
        context.out().printf(format, "NAME", "SOURCE", "IMAGE", "CPUS", "MEMORY", "SIZE", "CREATED");
        for (SnapshotInfo s : all) {
            context.out().printf(format, s.name(), s.sourceSandbox(), s.image(), s.vcpus(), s.memoryMib() + "M",
                    Views.size(s.sizeBytes()), s.createdAt());
        }
        return 0;
    }

    /** {@code basalt snapshots rm NAME...}. */
    @Command(name = "rm", mixinStandardHelpOptions = true, description = "Delete snapshots (sandboxes restored from them keep running).")
    static final class Remove extends BaseCommand {
        @Parameters(arity = "1..*", paramLabel = "NAME")
        List<String> names;

        Remove(CliContext context) {
            super(context);
        }

        @Override
        public Integer call() {
            for (String name : names) {
                sandboxes().deleteSnapshot(name);
                context.out().println(name);
            }
            return 0;
        }
    }
}
