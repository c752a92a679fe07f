package dev.basalt.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code basalt inspect ID}: everything about one sandbox, as JSON. */
@Command(name = "inspect", mixinStandardHelpOptions = true, description = "Show one sandbox as JSON (state, accelerator, failure reason...).")
final class InspectCommand extends BaseCommand {
    @Parameters(paramLabel = "SANDBOX", description = "Sandbox id.")
    String id;

    InspectCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        context.out().println(Views.json(Views.sandbox(sandboxes().inspect(id))));
        return 0;
    }
}
