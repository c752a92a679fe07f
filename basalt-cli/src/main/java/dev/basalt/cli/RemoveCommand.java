package dev.basalt.cli;

import java.util.List;
import picocli.CommandLine.Model.PositionalParamSpec;

/** {@code basalt rm ID...}: stop and delete sandboxes. */
final class RemoveCommand extends Verb {
    private final PositionalParamSpec ids;

    RemoveCommand(CliContext context) {
        super(context, "rm", "Remove sandboxes (stopping them first if needed).");
        aliases("remove");
        ids = positional("0..*", "1..*", List.class, "SANDBOX", "Sandbox ids.");
    }

    @Override
    public Integer call() {
        List<String> all = value(ids);
        for (String id : all) {
            sandboxes().remove(id);
            context.out().println(id);
        }
        return 0;
    }
}
