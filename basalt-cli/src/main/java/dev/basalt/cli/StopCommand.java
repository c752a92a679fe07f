package dev.basalt.cli;

import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/** {@code basalt stop ID...}: power sandboxes off. */
final class StopCommand extends Verb {
    private final PositionalParamSpec ids;
    private final OptionSpec grace;

    StopCommand(CliContext context) {
        super(context, "stop", "Stop sandboxes: ask the guest to power off, kill it after the grace time.");
        ids = positional("0..*", "1..*", List.class, "SANDBOX", "Sandbox ids.");
        grace = option(int.class, "SECONDS", "5", "Grace seconds before the VM is killed (default: ${DEFAULT-VALUE}).",
                "-t", "--time");
    }

    @Override
    public Integer call() {
        List<String> all = value(ids);
        for (String id : all) {
            sandboxes().stop(id, Duration.ofSeconds(Verb.<Integer>value(grace)));
            context.out().println(id);
        }
        return 0;
    }
}
