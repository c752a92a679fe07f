package dev.basalt.cli;

import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code basalt stop ID...}: power sandboxes off. */
@Command(name = "stop", mixinStandardHelpOptions = true, description = "Stop sandboxes: ask the guest to power off, kill it after the grace time.")
final class StopCommand extends BaseCommand {
    @Parameters(arity = "1..*", paramLabel = "SANDBOX", description = "Sandbox ids.")
    List<String> ids;

    @Option(names = {"-t", "--time"}, description = "Grace seconds before the VM is killed (default: ${DEFAULT-VALUE}).", defaultValue = "5")
    int graceSeconds;

    StopCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        for (String id : ids) {
            sandboxes().stop(id, Duration.ofSeconds(graceSeconds));
            context.out().println(id);
        }
        return 0;
    }
}
