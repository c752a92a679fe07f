package dev.basalt.cli;

import dev.basalt.api.BasaltException;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * The {@code basalt} command line. Its model is declared with picocli's programmatic API (see
 * {@link Verb} for why), and only the verb being run is added to it, so a one-shot command pays for
 * one verb, not sixteen; {@code basalt}, {@code basalt --help} and {@code basalt help} see them all
 * ({@link Verbs}).
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        Trace.at("main");
        int code;
        try (CliContext context = CliContext.detect()) {
            Trace.at("context");
            code = run(context, args);
        }
        Trace.at("closed");
        System.exit(code);
    }

    /** Runs one command line against {@code context}; returns the process exit code. */
    public static int run(CliContext context, String... args) {
        CommandLine[] self = new CommandLine[1];
        CommandSpec root = CommandSpec.wrapWithoutInspection((java.util.concurrent.Callable<Integer>) () -> {
            self[0].usage(context.out());                     // `basalt` alone: the usage, every verb listed
            return 0;
        }).name("basalt").version("basalt 0.1.0");
        root.usageMessage().description("MicroVM sandboxes: boot a VM, run untrusted code in it, throw it away.");
        root.addOption(OptionSpec.builder("-h", "--help").usageHelp(true).description("Show this help message and exit.").build());
        root.addOption(OptionSpec.builder("-V", "--version").versionHelp(true).description("Print version information and exit.")
                .build());
        root.addOption(OptionSpec.builder("-v", "--verbose").type(boolean.class).arity("0").defaultValue("false")
                .scopeType(CommandLine.ScopeType.INHERIT).description("Log what Basalt does (to stderr).").build());
        root.addOption(OptionSpec.builder("-H", "--host").type(String.class).paramLabel("TARGET")
                .scopeType(CommandLine.ScopeType.INHERIT)
                .description("basaltd to talk to: unix:/path/to.sock or host:port, or `embedded` for none (default: "
                        + "$BASALT_HOST, else the default socket if basaltd answers there, else run embedded)").build());
        Trace.at("root spec");
        CommandLine cli = new CommandLine(root);
        self[0] = cli;
        Trace.at("root model");
        String verb = Verbs.add(cli, context, args);
        Trace.at("verb model");
        if ("daemon".equals(verb)) {
            Logging.daemon();
        }
        cli.setOut(new java.io.PrintWriter(context.out(), true));      // usage and version
        cli.setErr(new java.io.PrintWriter(context.err(), true));      // parse errors
        cli.setExecutionStrategy(parsed -> {
            applyGlobalOptions(parsed, context);
            return new CommandLine.RunLast().execute(parsed);
        });
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

    /** {@code -v} and {@code -H}, wherever on the command line they were given (they are inherited by every verb). */
    private static void applyGlobalOptions(ParseResult parsed, CliContext context) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("-H")) {
                context.host(p.matchedOptionValue("-H", (String) null));
            }
            if (p.hasMatchedOption("-v")) {
                Logging.verbose();
            }
        }
    }
}
