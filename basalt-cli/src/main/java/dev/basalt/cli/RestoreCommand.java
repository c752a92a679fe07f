package dev.basalt.cli;

import dev.basalt.api.SandboxInfo;
import java.util.Map;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/** {@code basalt restore NAME}: a new sandbox from a snapshot. */
final class RestoreCommand extends Verb {
    private final PositionalParamSpec name;
    private final OptionSpec labels;
    private final OptionSpec json;

    RestoreCommand(CliContext context) {
        super(context, "restore", "Create a sandbox from a snapshot and print its id.");
        name = positional("0", "1", String.class, "SNAPSHOT", "Snapshot name.");
        labels = map("KEY=VALUE", "Label KEY=VALUE (repeatable).", "-l", "--label");
        json = flag("Print the sandbox as JSON.", "--json");
    }

    @Override
    public Integer call() {
        Map<String, String> l = value(labels);
        SandboxInfo info = sandboxes().restore(value(name), l);
        context.out().println(Verb.<Boolean>value(json) ? Views.json(Views.sandbox(info)) : info.id());
        return 0;
    }
}
