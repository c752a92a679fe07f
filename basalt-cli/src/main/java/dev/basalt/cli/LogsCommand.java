package dev.basalt.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code basalt logs ID}: the serial console of a sandbox. */
@Command(name = "logs", mixinStandardHelpOptions = true, description = "Print the sandbox's serial console (kernel and init messages).")
final class LogsCommand extends BaseCommand {
    @Parameters(paramLabel = "SANDBOX", description = "Sandbox id.")
    String id;

    @Option(names = "--bytes", description = "Print at most the last N bytes (default: ${DEFAULT-VALUE}).", defaultValue = "65536")
    int bytes;

    LogsCommand(CliContext context) {
        super(context);
    }

    @Override
    public Integer call() {
        context.out().print(sandboxes().consoleLog(id, bytes));
        context.out().flush();
        return 0;
    }
}
