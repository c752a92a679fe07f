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

/** Runs one command in a sandbox with its output on this terminal; used by {@code run} and {@code exec}. */
final class CommandRunner {
    private final CliContext context;

    CommandRunner(CliContext context) {
        this.context = context;
    }

    /** Runs the command and returns the exit code {@code basalt} should exit with. */
    int run(String sandboxId, ExecRequest request, boolean forwardStdin) {
        ExecOutput output = terminalOutput(context.out(), context.err());
        try {
            ExitStatus exit = forwardStdin
                    ? runInteractive(sandboxId, request, output)
                    : context.sandboxes().exec(sandboxId, request, output).exit();
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

    private ExitStatus runInteractive(String sandboxId, ExecRequest request, ExecOutput output) {
        var terminal = request.pty() && context.in() == System.in ? LocalTerminal.rawIfInteractive()
                : java.util.Optional.<LocalTerminal>empty();
        try (ExecProcess process = context.sandboxes().start(sandboxId, request, output)) {
            terminal.ifPresent(t -> {
                int[] size = t.size();
                process.resize(size[0], size[1]);
                t.onResize(() -> {
                    int[] now = t.size();
                    process.resize(now[0], now[1]);
                });
            });
            Thread pump = Thread.ofVirtual().name("stdin-pump").start(() -> pumpStdin(context.in(), process));
            ExitStatus exit = process.awaitExit(Duration.ofDays(3650));
            pump.interrupt();
            return exit;
        } finally {
            terminal.ifPresent(LocalTerminal::close);
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
