package dev.basalt.vmm.agent;

import dev.basalt.protocol.Message;
import dev.basalt.protocol.Protocol;
import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Items received on one stream, waiting for a consumer. The reader thread {@link #push}es
 * without blocking; the consumer {@link #take}s and reports consumed data bytes with
 * {@link #consumed}, which returns credit to the agent in {@code WINDOW} batches. The agent
 * cannot send more than its window, so at most about {@link Protocol#INITIAL_WINDOW} data
 * bytes wait here; an item that would take a peer past twice that is refused (the caller gives the
 * channel up), so a guest cannot make the host buffer more.
 */
final class Inbox<T> {
    static final int CREDIT_BATCH = 256 * 1024;
    private static final long OVERRUN_LIMIT = 2L * Protocol.INITIAL_WINDOW;

    private final AgentChannel client;
    private final int streamId;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final ArrayDeque<T> items = new ArrayDeque<>();
    private RuntimeException failure;
    private long bufferedBytes;
    private volatile boolean ended;
    private int uncredited;

    Inbox(AgentChannel client, int streamId) {
        this.client = client;
        this.streamId = streamId;
    }

    /**
     * Reader thread: queues an item carrying {@code dataBytes} data bytes; false (and nothing is
     * queued) if it overruns the peer's window.
     */
    boolean push(T item, int dataBytes) {
        lock.lock();
        try {
            if (bufferedBytes + dataBytes > OVERRUN_LIMIT) {
                return false;
            }
            bufferedBytes += dataBytes;
            items.add(item);
            arrived.signal();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Reader thread: the stream's terminal frame arrived; no more credit is returned. */
    void markEnded() {
        ended = true;
    }

    /**
     * The stream failed: items not yet taken are dropped (output of a lost channel is not trusted,
     * and a slow consumer must not take long to learn of the failure) and {@code e} is thrown.
     */
    void fail(RuntimeException e) {
        ended = true;
        lock.lock();
        try {
            if (failure == null) {
                failure = e;
            }
            items.clear();
            bufferedBytes = 0;
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Takes the next item, waiting until the deadline. */
    T take(Deadline deadline) {
        lock.lock();
        try {
            while (items.isEmpty()) {
                if (failure != null) {
                    throw failure;
                }
                long left = deadline.remainingNanos();
                if (left <= 0) {
                    throw deadline.timeoutException();
                }
                arrived.awaitNanos(left);
            }
            return items.poll();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AgentException(null, deadline.operation() + " interrupted", e);
        } finally {
            lock.unlock();
        }
    }

    /** Consumer: {@code n} data bytes were delivered; returns credit once a batch has accumulated. */
    void consumed(int n) {
        if (n == 0) {
            return;
        }
        int toSend;
        lock.lock();
        try {
            bufferedBytes -= n;
            uncredited += n;
            if (uncredited < CREDIT_BATCH || ended) {
                return;
            }
            toSend = uncredited;
            uncredited = 0;
        } finally {
            lock.unlock();
        }
        client.returnCredit(streamId, toSend);
    }

    /** Data bytes received and not yet consumed. */
    long bufferedBytes() {
        lock.lock();
        try {
            return bufferedBytes;
        } finally {
            lock.unlock();
        }
    }

    static int dataLength(Message m) {
        return switch (m) {
            case Message.Stdout s -> s.data().length();
            case Message.Stderr s -> s.data().length();
            case Message.FileData f -> f.data().length();
            default -> 0;
        };
    }
}
