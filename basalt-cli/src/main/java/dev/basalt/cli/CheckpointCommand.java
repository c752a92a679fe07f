package dev.basalt.cli;

import dev.basalt.api.SnapshotInfo;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/** {@code basalt checkpoint ID NAME}: save a sandbox as a named snapshot. */
final class CheckpointCommand extends Verb {
    private final PositionalParamSpec id;
    private final PositionalParamSpec name;
    private final OptionSpec json;

    CheckpointCommand(CliContext context) {
        super(context, "checkpoint", "Save a READY sandbox's full state as a named snapshot; it runs on.");
        id = positional("0", "1", String.class, "SANDBOX", "Sandbox id.");
        name = positional("1", "1", String.class, "NAME", "Snapshot name ([a-zA-Z0-9._-], up to 63).");
        json = flag("Print the snapshot as JSON.", "--json");
    }

    @Override
    public Integer call() {
        SnapshotInfo info = sandboxes().checkpoint(value(id), value(name));
        context.out().println(Verb.<Boolean>value(json) ? Views.json(Views.snapshot(info)) : info.name());
        return 0;
    }
}
