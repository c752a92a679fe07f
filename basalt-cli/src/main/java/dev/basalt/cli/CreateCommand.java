package dev.basalt.cli;

import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import java.time.Duration;
import picocli.CommandLine.Model.OptionSpec;

/** {@code basalt create}: boot a sandbox and print its id. */
final class CreateCommand extends Verb {
    private final SpecOptions spec;
    private final OptionSpec json;
    private final OptionSpec ttl;

    CreateCommand(CliContext context) {
        super(context, "create", "Boot a sandbox and print its id (it lives as long as the daemon, "
                + "or, without one, as long as this process).");
        spec = new SpecOptions(this);
        json = flag("Print the sandbox as JSON.", "--json");
        ttl = add(OptionSpec.builder("--ttl").type(Duration.class).converters(new Durations()).paramLabel("DURATION")
                .description("Remove the sandbox this long after it was created: 90s, 30m, 2h, 7d (plain number: seconds).")
                .build());
    }

    @Override
    public Integer call() {
        Duration limit = value(ttl);
        SandboxSpec wanted = spec.toSpec().withTtl(limit);
        context.prepareImage(wanted.image());
        SandboxInfo info = sandboxes().create(wanted);
        context.out().println(Verb.<Boolean>value(json) ? Views.json(Views.sandbox(info)) : info.id());
        if (context.embedded()) {
            context.err().println("basalt: note: no basalt daemon is running, so sandbox " + info.id()
                    + " is removed when this command exits; use `basalt run` for one-shot commands");
        }
        return 0;
    }
}
