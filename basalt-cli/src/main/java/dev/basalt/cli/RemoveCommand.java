package dev.basalt.cli;

import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code basalt rm ID...}: stop and delete sandboxes. */
@Command(name = "rm", mixinStandardHelpOptions = true, aliases = "remove", description = "Remove sandboxes (stopping them first if needed).")
final class RemoveCommand extends BaseCommand {
    @Parameters(arity = "1..*", paramLabel = "SANDBOX", description = "Sandbox ids.")
    List<String> ids;

    RemoveCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        for (String id : ids) {
            sandboxes().remove(id);
            context.out().println(id);
        }
        return 0;
    }
}
