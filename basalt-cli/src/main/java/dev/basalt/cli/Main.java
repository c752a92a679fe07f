package dev.basalt.cli;

import dev.basalt.api.BasaltException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code basalt} command line. Only the verb being run is given to picocli (its model is built by
 * reflection, ~5 ms a verb), so a one-shot command pays for one verb, not fifteen; {@code basalt},
 * {@code basalt --help} and {@code basalt help} see them all ({@link Verbs}).
 */
@Command(name = "basalt", mixinStandardHelpOptions = true, version = "basalt 0.1.0",
        description = "MicroVM sandboxes: boot a VM, run untrusted code in it, throw it away.")
public final class Main {

    private final CliContext context;

    Main(CliContext context) {
        this.context = context;
    }

    @Option(names = {"-v", "--verbose"}, description = "Log what Basalt does (to stderr).", scope = CommandLine.ScopeType.INHERIT)
    void verbose(boolean on) {
        if (on) {
            Logging.verbose();
        }
    }

    @Option(names = {"-H", "--host"}, paramLabel = "TARGET", scope = CommandLine.ScopeType.INHERIT,
            description = "basaltd to talk to: unix:/path/to.sock or host:port, or `embedded` for none (default: "
                    + "$BASALT_HOST, else the default socket if basaltd answers there, else run embedded)")
    void host(String target) {
        context.host(target);
    }

    public static void main(String[] args) {
        Trace.at("main");
        int code;
        try (CliContext context = CliContext.detect()) {
            if (Verbs.connects(args)) {
                context.connectEarly(Verbs.hostOption(args));
            }
            code = run(context, args);
        }
        Trace.at("closed");
        System.exit(code);
    }

    /** Runs one command line against {@code context}; returns the process exit code. */
    public static int run(CliContext context, String... args) {
        CommandLine cli = new CommandLine(new Main(context), new ContextFactory(context));
        Trace.at("root model");
        String verb = Verbs.add(cli, context, args);
        Trace.at("verb model");
        if ("daemon".equals(verb)) {
            Logging.daemon();
        }
        cli.setOut(new java.io.PrintWriter(context.out(), true));      // usage and version
        cli.setErr(new java.io.PrintWriter(context.err(), true));      // parse errors
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof BasaltException b) {
                context.err().println("basalt: " + b.getMessage());
                if (b instanceof BasaltException.NotFound && context.embedded()) {
                    context.err().println("basalt: note: without the basalt daemon, a sandbox lives only as long as "
                            + "the `basalt run` that created it");
                }
                return ExitCodes.of(b);
            }
            context.err().println("basalt: internal error: " + e + " (run with -v for details)");
            org.slf4j.LoggerFactory.getLogger(Main.class).debug("internal error", e);
            return ExitCodes.BASALT_FAILED;
        });
        try {
            return cli.execute(args);
        } finally {
            Trace.at("executed");
        }
    }

    /** Gives every command the shared {@link CliContext}. */
    private record ContextFactory(CliContext context) implements CommandLine.IFactory {
        @Override
        public <K> K create(Class<K> type) throws Exception {
            if (BaseCommand.class.isAssignableFrom(type)) {
                return type.getDeclaredConstructor(CliContext.class).newInstance(context);
            }
            return CommandLine.defaultFactory().create(type);
        }
    }
}
