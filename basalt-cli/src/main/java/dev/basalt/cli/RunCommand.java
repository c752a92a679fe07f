package dev.basalt.cli;

import dev.basalt.api.SandboxInfo;
import java.util.List;
import picocli.CommandLine.Model.PositionalParamSpec;

/** {@code basalt run -- CMD...}: boot a sandbox, run the command, print its output, remove the sandbox. */
final class RunCommand extends Verb {
    private final SpecOptions spec;
    private final ExecOptions exec;
    private final PositionalParamSpec command;

    RunCommand(CliContext context) {
        super(context, "run", "Boot a sandbox, run a command in it, remove it; exits with the command's code.");
        spec = new SpecOptions(this);
        exec = new ExecOptions(this);
        command = positional("0..*", "1..*", List.class, "COMMAND", "Command and arguments (put them after --).");
    }

    @Override
    public Integer call() {
        List<String> argv = value(command);
        var request = exec.toRequest(argv);
        CommandRunner.check(context, exec);
        context.prepareImage(spec.toSpec().image());
        SandboxInfo info = sandboxes().create(spec.toSpec());
        try {
            return new CommandRunner(context).run(info.id(), request, exec.interactive());
        } finally {
            sandboxes().remove(info.id());
        }
    }
}
