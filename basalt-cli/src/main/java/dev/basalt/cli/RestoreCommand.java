package dev.basalt.cli;

import dev.basalt.api.SandboxInfo;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code basalt restore NAME}: a new sandbox from a snapshot. */
@Command(name = "restore", mixinStandardHelpOptions = true, description = "Create a sandbox from a snapshot and print its id.")
final class RestoreCommand extends BaseCommand {
    @Parameters(paramLabel = "SNAPSHOT")
    String name;

    @Option(names = {"-l", "--label"}, description = "Label KEY=VALUE (repeatable).")
    Map<String, String> labels = new LinkedHashMap<>();

    @Option(names = "--json", description = "Print the sandbox as JSON.")
    boolean json;

    RestoreCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        SandboxInfo info = sandboxes().restore(name, labels);
        context.out().println(json ? Views.json(Views.sandbox(info)) : info.id());
        return 0;
    }
}
