package dev.basalt.cli;

import picocli.CommandLine.Model.PositionalParamSpec;

/** {@code basalt inspect ID}: everything about one sandbox, as JSON. */
final class InspectCommand extends Verb {
    private final PositionalParamSpec id;

    InspectCommand(CliContext context) {
        super(context, "inspect", "Show one sandbox as JSON (state, accelerator, failure reason...).");
        id = positional("0", "1", String.class, "SANDBOX", "Sandbox id.");
    }

    @Override
    public Integer call() {
        context.out().println(Views.json(Views.sandbox(sandboxes().inspect(value(id)))));
        return 0;
    }
}
