package dev.basalt.cli;

import dev.basalt.api.SnapshotInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code basalt checkpoint ID NAME}: save a sandbox as a named snapshot. */
@Command(name = "checkpoint", mixinStandardHelpOptions = true, description = "Save a READY sandbox's full state as a named snapshot; it runs on.")
final class CheckpointCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "SANDBOX")
    String id;

    @Parameters(index = "1", paramLabel = "NAME", description = "Snapshot name ([a-zA-Z0-9._-], up to 63).")
    String name;

    @Option(names = "--json", description = "Print the snapshot as JSON.")
    boolean json;

    CheckpointCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        SnapshotInfo info = sandboxes().checkpoint(id, name);
        context.out().println(json ? Views.json(Views.snapshot(info)) : info.name());
        return 0;
    }
}
