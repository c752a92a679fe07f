package dev.basalt.cli;

import dev.basalt.api.SandboxInfo;
import java.util.List;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/** {@code basalt fork ID [-n N]}: children that start from a sandbox's exact state. */
final class ForkCommand extends Verb {
    private final PositionalParamSpec id;
    private final OptionSpec count;
    private final OptionSpec json;

    ForkCommand(CliContext context) {
        super(context, "fork", "Fork a READY sandbox into N children (one id per line).");
        id = positional("0", "1", String.class, "SANDBOX", "Sandbox id.");
        count = option(int.class, "N", "1", "Number of children (default: ${DEFAULT-VALUE}).", "-n", "--count");
        json = flag("Print the children as JSON.", "--json");
    }

    @Override
    public Integer call() {
        List<SandboxInfo> children = sandboxes().fork(value(id), Verb.<Integer>value(count));
        if (Verb.<Boolean>value(json)) {
            context.out().println(Views.json(children.stream().map(Views::sandbox).toList()));
        } else {
            children.forEach(c -> context.out().println(c.id()));
        }
        return 0;
    }
}
