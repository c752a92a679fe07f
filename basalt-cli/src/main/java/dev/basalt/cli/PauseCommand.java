package dev.basalt.cli;

import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code basalt pause ID...}: save sandboxes to disk and stop their VMs; they keep their ids. */
@Command(name = "pause", description = "Pause READY sandboxes: save their full state to disk and stop their VMs "
        + "(no memory used); `basalt resume` brings them back under the same id.")
final class PauseCommand extends BaseCommand {
    @Parameters(arity = "1..*", paramLabel = "SANDBOX", description = "Sandbox ids.")
    List<String> ids;

    PauseCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        for (String id : ids) {
            sandboxes().pause(id);
            context.out().println(id);
        }
        return 0;
    }
}
