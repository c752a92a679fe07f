package dev.basalt.cli;

import dev.basalt.api.SandboxInfo;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code basalt run -- CMD...}: boot a sandbox, run the command, print its output, remove the sandbox. */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Boot a sandbox, run a command in it, remove it; exits with the command's code.")
final class RunCommand extends BaseCommand {
    @Mixin
    SpecOptions spec = new SpecOptions();

    @Mixin
    ExecOptions exec = new ExecOptions();

    @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "Command and arguments (put them after --).")
    List<String> command;

    RunCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        var request = exec.toRequest(command);
        CommandRunner.check(context, exec);
        SandboxInfo info = sandboxes().create(spec.toSpec());
        try {
            return new CommandRunner(context).run(info.id(), request, exec.interactive);
        } finally {
            sandboxes().remove(info.id());
        }
    }
}
