package dev.basalt.cli;

import java.util.List;
import picocli.CommandLine.Model.PositionalParamSpec;

/** {@code basalt exec ID -- CMD...}: run a command in an existing sandbox. */
final class ExecCommand extends Verb {
    private final ExecOptions exec;
    private final PositionalParamSpec id;
    private final PositionalParamSpec command;

    ExecCommand(CliContext context) {
        super(context, "exec", "Run a command in a running sandbox; exits with the command's code.");
        exec = new ExecOptions(this);
        id = positional("0", "1", String.class, "SANDBOX", "Sandbox id.");
        command = positional("1..*", "1..*", List.class, "COMMAND", "Command and arguments (after --).");
    }

    @Override
    public Integer call() {
        CommandRunner.check(context, exec);
        List<String> argv = value(command);
        return new CommandRunner(context).run(value(id), exec.toRequest(argv), exec.interactive());
    }
}
