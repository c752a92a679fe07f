package dev.basalt.core;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecOutput;
import dev.basalt.api.ExecProcess;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.ExecResult;
import dev.basalt.api.ExitStatus;
import dev.basalt.vmm.agent.AgentClient;
import dev.basalt.vmm.agent.AgentException;
import dev.basalt.vmm.agent.AgentTimeoutException;
import dev.basalt.vmm.agent.ExecEvent;
import dev.basalt.vmm.agent.ExecSession;
import dev.basalt.vmm.agent.ExecSpec;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs {@link ExecRequest}s through the agent: buffered, streamed, or interactive. The guest
 * enforces the request's timeout; the host waits that long plus a margin, so a guest that stops
 * answering cannot hang a caller forever.
 */
final class ExecRunner {
    /** How long past the request's own timeout the host waits before giving up on the guest. */
    private static final Duration HOST_MARGIN = Duration.ofSeconds(30);
    private static final Duration NO_TIMEOUT = Duration.ofDays(3650);

    private final int maxOutputBytes;

    ExecRunner(int maxOutputBytes) {
        this.maxOutputBytes = maxOutputBytes;
    }

    ExecResult runBuffered(AgentClient agent, ExecRequest request) {
        long start = System.nanoTime();
        try (ExecSession session = agent.exec(spec(request))) {
            feedStdin(session, request);
            var result = session.collect(maxOutputBytes, hostDeadline(request));
            return new ExecResult(exitStatus(result.exit()), result.stdout(), result.stderr(), result.truncated(),
                    Duration.ofNanos(System.nanoTime() - start));
        }
    }

    ExecResult runStreaming(AgentClient agent, ExecRequest request, ExecOutput output) {
        long start = System.nanoTime();
        try (ExecSession session = agent.exec(spec(request))) {
            output.started(session::cancel);
            feedStdin(session, request);
            ExecEvent.Exited exit = drain(session, output, hostDeadline(request));
            return new ExecResult(exitStatus(exit), new byte[0], new byte[0], false,
                    Duration.ofNanos(System.nanoTime() - start));
        }
    }

    /** Starts an interactive process; {@code onDone} runs once when it has exited or was closed. */
    ExecProcess start(AgentClient agent, ExecRequest request, ExecOutput output, Runnable onDone) {
        ExecSession session = agent.exec(spec(request).withStdin());
        output.started(session::cancel);
        CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
        Thread.ofVirtual().name("exec-output-" + session.pid()).start(() -> {
            ExitStatus status = null;
            Throwable failure = null;
            try {
                status = exitStatus(drain(session, output, NO_TIMEOUT));
            } catch (Throwable t) {
                failure = t;
            } finally {
                onDone.run();   // before the exit is announced: whoever waited for it finds the sandbox idle
            }
            if (failure != null) {
                exit.completeExceptionally(failure);
            } else {
                exit.complete(status);
            }
        });
        return new InteractiveProcess(session, exit);
    }

    /** Feeds a request's stdin bytes from a virtual thread, so output is consumed meanwhile. */
    private static void feedStdin(ExecSession session, ExecRequest request) {
        byte[] stdin = request.stdin();
        if (stdin == null) {
            return;
        }
        Thread.ofVirtual().name("exec-stdin-" + session.pid()).start(() -> {
            try {
                session.writeStdin(stdin, hostDeadline(request));
                session.closeStdin();
            } catch (RuntimeException e) {
                // the process exited without reading all of its stdin: like a closed pipe, not an error
            }
        });
    }

    private static ExecEvent.Exited drain(ExecSession session, ExecOutput output, Duration timeout) {
        long deadline = System.nanoTime() + Math.min(timeout.toNanos(), NO_TIMEOUT.toNanos());
        while (true) {
            Duration left = Duration.ofNanos(Math.max(1, deadline - System.nanoTime()));
            ExecEvent event;
            try {
                event = session.next(left);
            } catch (AgentTimeoutException e) {
                session.cancel();
                throw e;
            }
            switch (event) {
                case ExecEvent.Started s -> { }
                case ExecEvent.Stdout out -> output.stdout(out.data().toArray());
                case ExecEvent.Stderr err -> output.stderr(err.data().toArray());
                case ExecEvent.Exited exited -> {
                    return exited;
                }
            }
        }
    }

    static ExecSpec spec(ExecRequest request) {
        Duration timeout = request.timeout() == null ? Duration.ZERO : request.timeout();
        ExecSpec spec = new ExecSpec(request.argv(), request.env(), request.cwd(), timeout,
                request.stdin() != null, false, 0, 0, false, request.user());
        return request.pty() ? spec.withPty(24, 80) : spec;
    }

    private static Duration hostDeadline(ExecRequest request) {
        return request.timeout() == null ? NO_TIMEOUT : request.timeout().plus(HOST_MARGIN);
    }

    static ExitStatus exitStatus(ExecEvent.Exited exited) {
        return switch (exited.kind()) {
            case EXITED -> new ExitStatus.Exited(exited.value());
            case SIGNALED -> new ExitStatus.Signaled(exited.value());
            case TIMED_OUT -> new ExitStatus.TimedOut();
        };
    }

    /** {@link ExecProcess} over an {@link ExecSession} whose output a virtual thread drains. */
    private record InteractiveProcess(ExecSession session, CompletableFuture<ExitStatus> exit) implements ExecProcess {
        @Override
        public int pid() {
            return session.pid();
        }

        @Override
        public void writeStdin(byte[] data) {
            session.writeStdin(data, NO_TIMEOUT);
        }

        @Override
        public void closeStdin() {
            session.closeStdin();
        }

        @Override
        public void signal(int signal) {
            if (signal < 1 || signal > 64) {
                throw new BasaltException.InvalidArgument("signal must be 1..64, got " + signal);
            }
            session.signal(signal);
        }

        @Override
        public void resize(int rows, int cols) {
            if (rows < 1 || rows > 0xFFFF || cols < 1 || cols > 0xFFFF) {
                throw new BasaltException.InvalidArgument("terminal size must be 1..65535, got " + rows + "x" + cols);
            }
            session.resize(rows, cols);
        }

        @Override
        public ExitStatus awaitExit(Duration timeout) {
            try {
                return exit.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                throw new BasaltException.TimedOut("process " + session.pid() + " did not exit within " + timeout.toMillis() + " ms");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new BasaltException.Unavailable("interrupted while waiting for process " + session.pid(), e);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof BasaltException b) {
                    throw b;
                }
                if (e.getCause() instanceof AgentException a) {
                    throw new BasaltException.Unavailable("process " + session.pid() + " was lost: " + a.getMessage(), a);
                }
                throw new BasaltException.Internal("process " + session.pid() + " failed: " + e.getCause(), e.getCause());
            }
        }

        @Override
        public void close() {
            session.close();
        }
    }
}
