package dev.basalt.cli;

import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code basalt resume ID...}: run paused sandboxes again, with their memory, files and processes. */
@Command(name = "resume", description = "Resume PAUSED sandboxes under the same id, with their memory, files and processes.")
final class ResumeCommand extends BaseCommand {
    @Parameters(arity = "1..*", paramLabel = "SANDBOX", description = "Sandbox ids.")
    List<String> ids;

    ResumeCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        for (String id : ids) {
            sandboxes().resume(id);
            context.out().println(id);
        }
        return 0;
    }
}
