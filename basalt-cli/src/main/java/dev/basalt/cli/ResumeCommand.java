package dev.basalt.cli;

import java.util.List;
import picocli.CommandLine.Model.PositionalParamSpec;

/** {@code basalt resume ID...}: run paused sandboxes again, with their memory, files and processes. */
final class ResumeCommand extends Verb {
    private final PositionalParamSpec ids;

    ResumeCommand(CliContext context) {
        super(context, "resume", "Resume PAUSED sandboxes under the same id, with their memory, files and processes.");
        ids = positional("0..*", "1..*", List.class, "SANDBOX", "Sandbox ids.");
    }

    @Override
    public Integer call() {
        List<String> all = value(ids);
        for (String id : all) {
            sandboxes().resume(id);
            context.out().println(id);
        }
        return 0;
    }
}
