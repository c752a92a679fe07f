package dev.basalt.cli;

import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/** {@code basalt logs ID}: the serial console of a sandbox. */
final class LogsCommand extends Verb {
    private final PositionalParamSpec id;
    private final OptionSpec bytes;

    LogsCommand(CliContext context) {
        super(context, "logs", "Print the sandbox's serial console (kernel and init messages).");
        id = positional("0", "1", String.class, "SANDBOX", "Sandbox id.");
        bytes = option(int.class, "N", "65536", "Print at most the last N bytes (default: ${DEFAULT-VALUE}).", "--bytes");
    }

    @Override
    public Integer call() {
        context.out().print(sandboxes().consoleLog(value(id), Verb.<Integer>value(bytes)));
        context.out().flush();
        return 0;
    }
}
