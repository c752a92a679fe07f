package dev.basalt.cli;

import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code basalt exec ID -- CMD...}: run a command in an existing sandbox. */
@Command(name = "exec", mixinStandardHelpOptions = true, description = "Run a command in a running sandbox; exits with the command's code.")
final class ExecCommand extends BaseCommand {
    @Mixin
    ExecOptions exec = new ExecOptions();

    @Parameters(index = "0", paramLabel = "SANDBOX", description = "Sandbox id.")
    String id;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "COMMAND", description = "Command and arguments (after --).")
    List<String> command;

    ExecCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        CommandRunner.check(context, exec);
        return new CommandRunner(context).run(id, exec.toRequest(command), exec.interactive);
    }
}
