package dev.basalt.vmm.agent;

import dev.basalt.protocol.Bytes;
import dev.basalt.protocol.Message;
import dev.basalt.protocol.Protocol;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A process running in the guest, started by {@link AgentClient#exec}. Its output arrives
 * as {@link ExecEvent}s that wait (at most about 1 MiB) until consumed; consuming them
 * returns credit to the agent, so a process that outruns its reader is paused by its own
 * pipe. Consume in one of three ways, from one thread at a time:
 * {@link #next} (event by event), {@link #pump} (stream into {@code OutputStream}s) or
 * {@link #collect} (into byte arrays up to a limit); {@link #awaitExit} discards output.
 *
 * <p>Input methods ({@link #writeStdin}, {@link #closeStdin}, {@link #signal},
 * {@link #resize}, {@link #cancel}) may be called from any thread while the process runs;
 * afterwards they are ignored ({@code writeStdin} throws). {@link #close()} cancels a
 * process that has not exited yet.
 */
public final class ExecSession implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ExecSession.class);
    private static final Duration CONTROL_TIMEOUT = Duration.ofSeconds(10);

    private final AgentChannel client;
    private final int streamId;
    private final ExecSpec spec;
    private final String label;
    private final Inbox<ExecEvent> inbox;
    private final SendWindow stdinWindow = new SendWindow();
    private final CompletableFuture<Integer> started = new CompletableFuture<>();
    private final ReentrantLock consumer = new ReentrantLock();
    private volatile boolean finished;
    private volatile ExecEvent.Exited exited;
    private volatile int pid = -1;

    private ExecSession(AgentChannel client, int streamId, ExecSpec spec) {
        this.client = client;
        this.streamId = streamId;
        this.spec = spec;
        this.label = "exec " + spec.argv();
        this.inbox = new Inbox<>(client, streamId);
    }

    static ExecSession start(AgentChannel client, ExecSpec spec, Duration startTimeout) {
        ExecSession[] made = new ExecSession[1];
        int id = client.open(sid -> (made[0] = new ExecSession(client, sid, spec)).new Handler());
        ExecSession session = made[0];
        Deadline deadline = Deadline.in(startTimeout, session.label + " (start)");
        try {
            client.send(id, spec.toMessage(), deadline);
        } catch (AgentTimeoutException e) {
            client.abandon(id);
            throw e;
        }
        try {
            session.pid = session.started.get(Math.max(0, deadline.remainingNanos()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            client.cancel(id);
            throw deadline.timeoutException();
        } catch (ExecutionException e) {
            throw ReplyHandler.rethrow(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            client.cancel(id);
            throw new AgentException(null, session.label + " interrupted while starting", e);
        }
        return session;
    }

    /** The process id in the guest. Allowed at any time. */
    public int pid() {
        return pid;
    }

    /** The spec this process was started with. */
    public ExecSpec spec() {
        return spec;
    }

    /** How the process ended, once {@link ExecEvent.Exited} has been consumed; otherwise null. */
    public ExecEvent.Exited exitStatus() {
        return exited;
    }

    /**
     * The next event, waiting up to {@code timeout}. Data events return their credit as
     * they are taken. On expiry throws {@link AgentTimeoutException} and leaves the process
     * running. Allowed until {@link ExecEvent.Exited} was returned.
     *
     * @throws IllegalStateException if the exit was already consumed
     */
    public ExecEvent next(Duration timeout) {
        return next(Deadline.in(timeout, label + " (next event)"));
    }

    private ExecEvent next(Deadline deadline) {
        consumer.lock();
        try {
            if (exited != null) {
                throw new IllegalStateException(label + " has already exited: " + exited);
            }
            ExecEvent e = inbox.take(deadline);
            switch (e) {
                case ExecEvent.Stdout o -> inbox.consumed(o.data().length());
                case ExecEvent.Stderr o -> inbox.consumed(o.data().length());
                case ExecEvent.Exited x -> exited = x;
                case ExecEvent.Started s -> { }
            }
            return e;
        } finally {
            consumer.unlock();
        }
    }

    /**
     * Streams output into {@code stdout} / {@code stderr} until the process exits. On expiry
     * of {@code timeout} (or a failing sink) the process is cancelled and the error thrown.
     */
    public ExecEvent.Exited pump(OutputStream stdout, OutputStream stderr, Duration timeout) {
        Deadline deadline = Deadline.in(timeout, label);
        try {
            while (true) {
                switch (next(deadline)) {
                    case ExecEvent.Stdout o -> o.data().writeTo(stdout);
                    case ExecEvent.Stderr o -> o.data().writeTo(stderr);
                    case ExecEvent.Exited x -> {
                        return x;
                    }
                    case ExecEvent.Started s -> { }
                }
            }
        } catch (IOException e) {
            cancel();
            throw new UncheckedIOException(label + ": writing output failed", e);
        } catch (AgentTimeoutException e) {
            cancel();
            throw e;
        }
    }

    /**
     * Collects output into byte arrays, keeping at most {@code limitPerStream} bytes of each
     * stream (the rest is consumed and dropped, {@link ExecResult#truncated()} tells), until
     * the process exits. On expiry the process is cancelled.
     */
    public ExecResult collect(int limitPerStream, Duration timeout) {
        if (limitPerStream < 0) {
            throw new IllegalArgumentException("limitPerStream must be >= 0");
        }
        LimitedBuffer out = new LimitedBuffer(limitPerStream);
        LimitedBuffer err = new LimitedBuffer(limitPerStream);
        ExecEvent.Exited x = pump(out, err, timeout);
        return new ExecResult(pid, out.toByteArray(), err.toByteArray(), out.truncated || err.truncated, x);
    }

    /** Waits for the exit, discarding any output not consumed yet. On expiry the process is cancelled. */
    public ExecEvent.Exited awaitExit(Duration timeout) {
        ExecEvent.Exited x = exited;
        return x != null ? x : pump(OutputStream.nullOutputStream(), OutputStream.nullOutputStream(), timeout);
    }

    /** Writes {@code data} to stdin, paced by credit. Allowed only with {@link ExecSpec#stdinStream()}, until exit. */
    public void writeStdin(byte[] data, Duration timeout) {
        writeStdin(ByteBuffer.wrap(data), timeout);
    }

    /**
     * Writes the remaining bytes of {@code data} to stdin in chunks of at most 64 KiB, waiting
     * for credit; on expiry of {@code timeout} the process is cancelled.
     *
     * @throws IllegalStateException if the spec did not ask for a stdin stream
     * @throws AgentException        if the process has ended
     */
    public void writeStdin(ByteBuffer data, Duration timeout) {
        if (!spec.stdinStream()) {
            throw new IllegalStateException(label + " was started without a stdin stream (ExecSpec.withStdin())");
        }
        Deadline deadline = Deadline.in(timeout, label + " (write stdin)");
        try {
            while (data.hasRemaining()) {
                int n = stdinWindow.acquire(Math.min(data.remaining(), Protocol.HOST_CHUNK), deadline);
                Bytes chunk = Bytes.copyOf(data.slice(data.position(), n));
                data.position(data.position() + n);
                client.send(streamId, new Message.Stdin(chunk), deadline);
            }
        } catch (AgentTimeoutException e) {
            cancel();
            throw e;
        }
    }

    /** Closes the process's stdin (end of input). Ignored after exit. */
    public void closeStdin() {
        control(new Message.StdinClose(), "close stdin");
    }

    /** Sends signal {@code signo} (1–64) to the process group. Ignored after exit. */
    public void signal(int signo) {
        control(new Message.Signal(signo), "signal " + signo);
    }

    /** Changes the PTY size. Ignored without a PTY or after exit. */
    public void resize(int rows, int cols) {
        control(new Message.Resize(rows, cols), "resize");
    }

    /** Kills the process group (SIGKILL); the process then exits with {@code SIGNALED 9}. Ignored after exit. */
    public void cancel() {
        if (!finished) {
            client.cancel(streamId);
        }
    }

    /** Cancels the process if it has not exited. Idempotent. */
    @Override
    public void close() {
        cancel();
    }

    /** Output bytes received and not yet consumed (bounded by the window). */
    long bufferedBytes() {
        return inbox.bufferedBytes();
    }

    private void control(Message message, String what) {
        if (!finished) {
            client.send(streamId, message, Deadline.in(CONTROL_TIMEOUT, label + " (" + what + ")"));
        }
    }

    private void failed(AgentException e) {
        finished = true;
        started.completeExceptionally(e);
        stdinWindow.fail(e);
        inbox.fail(e);
    }

    /** Reader-thread side of the stream. */
    private final class Handler implements StreamHandler {
        @Override
        public boolean onMessage(Message message) {
            switch (message) {
                case Message.ExecStarted s -> {
                    pid = s.pid();
                    inbox.push(new ExecEvent.Started(s.pid()), 0);
                    started.complete(s.pid());
                }
                case Message.Stdout o -> {
                    return overrun(inbox.push(new ExecEvent.Stdout(o.data()), o.data().length()));
                }
                case Message.Stderr o -> {
                    return overrun(inbox.push(new ExecEvent.Stderr(o.data()), o.data().length()));
                }
                case Message.Window w -> stdinWindow.credit(w.increment());
                case Message.Exit x -> {
                    finished = true;
                    inbox.markEnded();
                    stdinWindow.fail(new AgentException(null, label + " has exited (" + x.kind() + " " + x.value() + ")"));
                    inbox.push(new ExecEvent.Exited(x.kind(), x.value()), 0);
                    return true;
                }
                case Message.Error e -> {
                    failed(new AgentException(e.code(), label + ": " + e.message()));
                    return true;
                }
                default -> log.debug("{}: ignoring unexpected {}", label, message.type());
            }
            return false;
        }

        private boolean overrun(boolean withinWindow) {
            if (!withinWindow) {
                client.violation("stream " + streamId + " (" + label + ") got more output than its window allows");
            }
            return false;
        }

        @Override
        public void onFailure(AgentException failure) {
            failed(failure);
        }
    }

    /** A ByteArrayOutputStream that keeps at most {@code limit} bytes. */
    private static final class LimitedBuffer extends ByteArrayOutputStream {
        private final int limit;
        private boolean truncated;

        LimitedBuffer(int limit) {
            super(Math.min(limit, 8192));
            this.limit = limit;
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            int keep = Math.min(len, limit - count);
            if (keep < len) {
                truncated = true;
            }
            if (keep > 0) {
                super.write(b, off, keep);
            }
        }
    }
}
