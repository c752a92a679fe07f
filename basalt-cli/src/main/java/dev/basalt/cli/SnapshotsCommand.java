package dev.basalt.cli;

import dev.basalt.api.SnapshotInfo;
import java.util.List;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/** {@code basalt snapshots}: the snapshot catalog; {@code basalt snapshots rm NAME...} deletes. */
final class SnapshotsCommand extends Verb {
    private final OptionSpec json;

    SnapshotsCommand(CliContext context) {
        super(context, "snapshots", "List snapshots; `snapshots rm NAME...` deletes them.");
        json = flag("Print a JSON array.", "--json");
        subcommand(new Remove(context));
    }

    @Override
    public Integer call() {
        List<SnapshotInfo> all = sandboxes().snapshots();
        if (Verb.<Boolean>value(json)) {
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
    static final class Remove extends Verb {
        private final PositionalParamSpec names;

        Remove(CliContext context) {
            super(context, "rm", "Delete snapshots (sandboxes restored from them keep running).");
            names = positional("0..*", "1..*", List.class, "NAME", "Snapshot names.");
        }

        @Override
        public Integer call() {
            List<String> all = value(names);
            for (String name : all) {
                sandboxes().deleteSnapshot(name);
                context.out().println(name);
            }
            return 0;
        }
    }
}
