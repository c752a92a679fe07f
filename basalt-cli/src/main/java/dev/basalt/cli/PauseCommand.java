package dev.basalt.cli;

import java.util.List;
import picocli.CommandLine.Model.PositionalParamSpec;

/** {@code basalt pause ID...}: save sandboxes to disk and stop their VMs; they keep their ids. */
final class PauseCommand extends Verb {
    private final PositionalParamSpec ids;

    PauseCommand(CliContext context) {
        super(context, "pause", "Pause READY sandboxes: save their full state to disk and stop their VMs "
                + "(no memory used); `basalt resume` brings them back under the same id.");
        ids = positional("0..*", "1..*", List.class, "SANDBOX", "Sandbox ids.");
    }

    @Override
    public Integer call() {
        List<String> all = value(ids);
        for (String id : all) {
            sandboxes().pause(id);
            context.out().println(id);
        }
        return 0;
    }
}
