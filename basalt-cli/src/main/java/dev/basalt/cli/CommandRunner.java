package dev.basalt.cli;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecOutput;
import dev.basalt.api.ExecProcess;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.ExitStatus;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Runs one command in a sandbox with its output on this terminal; used by {@code run} and {@code exec}.
 * Like {@code docker run}, SIGINT and SIGTERM sent to {@code basalt} (Ctrl-C without {@code -t}) are
 * passed on to the command, which decides what they mean; with {@code -t} Ctrl-C is a keystroke that
 * goes to the guest's terminal.
 */
final class CommandRunner {
    private static final int SIGINT = 2;
    private static final int SIGTERM = 15;

    private final CliContext context;

    CommandRunner(CliContext context) {
        this.context = context;
    }

    /**
     * Refuses what cannot work before anything is created: {@code -t} with {@code -i} wants a terminal
     * on stdin (raw keystrokes), and a pipe or a file would hang the interactive program.
     */
    static void check(CliContext context, ExecOptions exec) {
        if (exec.interactive() && exec.tty() && !context.stdinIsTerminal()) {
            throw new BasaltException.InvalidArgument("the input device is not a terminal: -it needs one on stdin, "
                    + "and stdin here is a pipe or a file; use -i alone to pipe input (echo ls | basalt run -i -- sh)");
        }
    }

    /** Runs the command and returns the exit code {@code basalt} should exit with. */
    int run(String sandboxId, ExecRequest request, boolean forwardStdin) {
        ExecOutput output = terminalOutput(context.out(), context.err());
        try {
            ExitStatus exit = runProcess(sandboxId, request, output, forwardStdin);
            context.out().flush();
            if (exit instanceof ExitStatus.TimedOut) {
                context.err().println("basalt: command timed out after " + request.timeout().toMillis() / 1000.0 + " s");
            }
            return exit.shellCode();
        } catch (BasaltException.NotFound e) {
            if (e.getMessage().contains(request.argv().getFirst())) {
                context.err().println("basalt: " + e.getMessage());
                return ExitCodes.PROGRAM_NOT_FOUND;
            }
            throw e;
        }
    }

    private ExitStatus runProcess(String sandboxId, ExecRequest request, ExecOutput output, boolean forwardStdin) {
        Optional<LocalTerminal> terminal = request.pty() && forwardStdin && context.stdinIsTerminal()
                ? LocalTerminal.rawIfInteractive() : Optional.empty();
        try (ExecProcess process = context.sandboxes().start(sandboxId, request, output);
             Forwarding signals = Forwarding.of(process, context.in() == System.in && terminal.isEmpty())) {
            terminal.ifPresent(t -> {
                int[] size = t.size();
                process.resize(size[0], size[1]);
                t.onResize(() -> {
                    int[] now = t.size();
                    process.resize(now[0], now[1]);
                });
            });
            Thread pump = null;
            if (forwardStdin) {
                pump = Thread.ofVirtual().name("stdin-pump").start(() -> pumpStdin(context.in(), process));
            } else {
                process.closeStdin();
            }
            Trace.at("started");
            ExitStatus exit = process.awaitExit(Duration.ofDays(3650));
            Trace.at("exited");
            if (pump != null) {
                pump.interrupt();
            }
            return exit;
        } finally {
            terminal.ifPresent(LocalTerminal::close);
        }
    }

    /** SIGINT and SIGTERM of this process go to the guest process while it runs; the old handlers come back after. */
    private record Forwarding(SignalHandler oldInt, SignalHandler oldTerm) implements AutoCloseable {
        static Forwarding of(ExecProcess process, boolean enabled) {
            if (!enabled) {
                return new Forwarding(null, null);
            }
            return new Forwarding(Signal.handle(new Signal("INT"), s -> signal(process, SIGINT)),
                    Signal.handle(new Signal("TERM"), s -> signal(process, SIGTERM)));
        }

        private static void signal(ExecProcess process, int signal) {
            try {
                process.signal(signal);
            } catch (BasaltException e) {
                // it ended meanwhile
            }
        }

        @Override
        public void close() {
            if (oldInt != null) {
                Signal.handle(new Signal("INT"), oldInt);
                Signal.handle(new Signal("TERM"), oldTerm);
            }
        }
    }

    private static void pumpStdin(InputStream in, ExecProcess process) {
        byte[] buf = new byte[64 * 1024];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                process.writeStdin(Arrays.copyOf(buf, n));
            }
            process.closeStdin();
        } catch (IOException | BasaltException e) {
            // the process ended or stdin broke: nothing more to forward
        }
    }

    static ExecOutput terminalOutput(PrintStream out, PrintStream err) {
        return new ExecOutput() {
            @Override
            public void stdout(byte[] chunk) {
                out.write(chunk, 0, chunk.length);
                out.flush();
            }

            @Override
            public void stderr(byte[] chunk) {
                err.write(chunk, 0, chunk.length);
                err.flush();
            }
        };
    }
}
