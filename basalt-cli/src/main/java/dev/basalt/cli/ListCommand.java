package dev.basalt.cli;

import dev.basalt.api.SandboxInfo;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code basalt ls}: list sandboxes. */
@Command(name = "ls", aliases = "list", description = "List sandboxes.")
final class ListCommand extends BaseCommand {
    @Option(names = "--json", description = "Print a JSON array.")
    boolean json;

    ListCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        List<SandboxInfo> all = sandboxes().list();
        if (json) {
            context.out().println(Views.json(all.stream().map(Views::sandbox).toList()));
            return 0;
        }
        String format = "%-12s  %-8s  %-10s  %4s  %7s  %5s  %s%n";
        context.out().printf(format, "ID", "STATE", "IMAGE", "CPUS", "MEMORY", "AGE", "LABELS");
        for (SandboxInfo s : all) {
            context.out().printf(format, s.id(), s.state(), s.spec().image(), s.spec().vcpus(),
                    s.spec().memoryMib() + "M", Views.age(s.createdAt()), s.labels());
        }
        return 0;
    }
}
