package dev.basalt.e2b.connect;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The envelopes of one server-streaming response: messages, keepalives, the deadline and the
 * end-of-stream envelope, written under one lock so they never interleave. Closing it stops its
 * timer threads; the caller closes the HTTP exchange.
 */
final class ResponseStream<R> implements StreamSink<R>, AutoCloseable {
    private final ObjectMapper json;
    private final OutputStream out;
    private final R keepalive;
    private final ReentrantLock lock = new ReentrantLock();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final Thread deadlineTimer;
    private final Thread keepaliveTimer;
    private long lastSendNanos = System.nanoTime();
    private boolean ended;

    ResponseStream(ObjectMapper json, OutputStream out, Optional<Duration> timeout, Duration keepaliveInterval, R keepalive) {
        this.json = json;
        this.out = out;
        this.keepalive = keepalive;
        this.deadlineTimer = timeout.map(t -> Thread.ofVirtual().name("connect-deadline").start(() -> {
            if (sleep(t)) {
                finish(ConnectCode.DEADLINE_EXCEEDED, "the call's deadline (Connect-Timeout-Ms " + t.toMillis() + ") passed");
            }
        })).orElse(null);
        this.keepaliveTimer = keepaliveInterval == null || keepalive == null ? null
                : Thread.ofVirtual().name("connect-keepalive").start(() -> keepalives(keepaliveInterval));
    }

    @Override
    public boolean send(R message) {
        byte[] data;
        try {
            data = json.writeValueAsBytes(message);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode " + message, e);
        }
        return write(new Envelope(0, data));
    }

    @Override
    public CompletableFuture<Void> closed() {
        return closed;
    }

    /** Ends the stream, with an error if {@code code} is not null; later calls do nothing. */
    void finish(ConnectCode code, String message) {
        ObjectNode end = json.createObjectNode();
        if (code != null) {
            ObjectNode error = end.putObject("error");
            error.put("code", code.wireName());
            error.put("message", message == null ? "" : message);
        }
        byte[] data;
        try {
            data = json.writeValueAsBytes(end);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        lock.lock();
        try {
            if (ended) {
                return;
            }
            try {
                new Envelope(Envelope.END_STREAM, data).write(out);
                out.flush();
            } catch (IOException e) {
                // the client is gone; nothing to tell it
            }
            ended = true;
        } finally {
            lock.unlock();
        }
        closed.complete(null);
    }

    private boolean write(Envelope envelope) {
        lock.lock();
        try {
            if (ended) {
                return false;
            }
            envelope.write(out);
            out.flush();
            lastSendNanos = System.nanoTime();
            return true;
        } catch (IOException e) {
            ended = true;
            closed.complete(null);
            return false;
        } finally {
            lock.unlock();
        }
    }

    private void keepalives(Duration interval) {
        long intervalNanos = interval.toNanos();
        while (!closed.isDone()) {
            long idle;
            lock.lock();
            try {
                idle = System.nanoTime() - lastSendNanos;
            } finally {
                lock.unlock();
            }
            if (idle >= intervalNanos) {
                if (!send(keepalive)) {
                    return;
                }
                idle = 0;
            }
            if (!sleep(Duration.ofNanos(intervalNanos - idle))) {
                return;
            }
        }
    }

    private static boolean sleep(Duration d) {
        try {
            Thread.sleep(d);
            return true;
        } catch (InterruptedException e) {
            return false;
        }
    }

    @Override
    public void close() {
        closed.complete(null);
        if (deadlineTimer != null) {
            deadlineTimer.interrupt();
        }
        if (keepaliveTimer != null) {
            keepaliveTimer.interrupt();
        }
        try {
            out.close();
        } catch (IOException e) {
            // the client is gone
        }
    }
}
