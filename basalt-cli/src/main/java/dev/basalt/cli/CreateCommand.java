package dev.basalt.cli;

import dev.basalt.api.SandboxInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code basalt create}: boot a sandbox and print its id. */
@Command(name = "create", description = "Boot a sandbox and print its id (it lives as long as the daemon, "
        + "or, without one, as long as this process).")
final class CreateCommand extends BaseCommand {
    @Mixin
    SpecOptions spec = new SpecOptions();

    @Option(names = "--json", description = "Print the sandbox as JSON.")
    boolean json;

    CreateCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        SandboxInfo info = sandboxes().create(spec.toSpec());
        context.out().println(json ? Views.json(Views.sandbox(info)) : info.id());
        if (context.embedded()) {
            context.err().println("basalt: note: no basalt daemon is running, so sandbox " + info.id()
                    + " is removed when this command exits; use `basalt run` for one-shot commands");
        }
        return 0;
    }
}
