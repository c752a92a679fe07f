package dev.basalt.cli;

import dev.basalt.api.SandboxInfo;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code basalt fork ID [-n N]}: children that start from a sandbox's exact state. */
@Command(name = "fork", mixinStandardHelpOptions = true, description = "Fork a READY sandbox into N children (one id per line).")
final class ForkCommand extends BaseCommand {
    @Parameters(paramLabel = "SANDBOX")
    String id;

    @Option(names = {"-n", "--count"}, description = "Number of children (default: ${DEFAULT-VALUE}).", defaultValue = "1")
    int count;

    @Option(names = "--json", description = "Print the children as JSON.")
    boolean json;

    ForkCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        List<SandboxInfo> children = sandboxes().fork(id, count);
        if (json) {
            context.out().println(Views.json(children.stream().map(Views::sandbox).toList()));
        } else {
            children.forEach(c -> context.out().println(c.id()));
        }
        return 0;
    }
}
