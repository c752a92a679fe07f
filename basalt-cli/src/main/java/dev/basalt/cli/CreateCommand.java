package dev.basalt.cli;

import dev.basalt.api.SandboxInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code basalt create}: boot a sandbox and print its id. */
@Command(name = "create", mixinStandardHelpOptions = true, description = "Boot a sandbox and print its id (it lives as long as the daemon, "
        + "or, without one, as long as this process).")
final class CreateCommand extends BaseCommand {
    @Mixin
    SpecOptions spec = new SpecOptions();

    @Option(names = "--json", description = "Print the sandbox as JSON.")
    boolean json;

    @Option(names = "--ttl", paramLabel = "DURATION", converter = Durations.class,
            description = "Remove the sandbox this long after it was created: 90s, 30m, 2h, 7d (plain number: seconds).")
    java.time.Duration ttl;

    CreateCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        SandboxInfo info = sandboxes().create(spec.toSpec().withTtl(ttl));
        context.out().println(json ? Views.json(Views.sandbox(info)) : info.id());
        if (context.embedded()) {
            context.err().println("basalt: note: no basalt daemon is running, so sandbox " + info.id()
                    + " is removed when this command exits; use `basalt run` for one-shot commands");
        }
        return 0;
    }
}
