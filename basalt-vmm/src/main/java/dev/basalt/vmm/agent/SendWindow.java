package dev.basalt.vmm.agent;

import dev.basalt.protocol.Protocol;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The host's send credit on one stream (for {@code STDIN} / {@code FILE_DATA}). Senders
 * block in {@link #acquire} until credit arrives in a {@code WINDOW} frame, the deadline
 * passes, or the stream fails. {@link #credit} and {@link #fail} are cheap and never block
 * for long: the reader thread calls them.
 */
final class SendWindow {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private long available = Protocol.INITIAL_WINDOW;
    private RuntimeException failure;

    /** Takes between 1 and {@code want} bytes of credit, waiting for some if there is none. */
    int acquire(int want, Deadline deadline) {
        lock.lock();
        try {
            while (available <= 0 && failure == null) {
                long left = deadline.remainingNanos();
                if (left <= 0) {
                    throw deadline.timeoutException();
                }
                changed.awaitNanos(left);
            }
            if (failure != null) {
                throw failure;
            }
            int n = (int) Math.min(want, available);
            available -= n;
            return n;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AgentException(null, deadline.operation() + " interrupted while waiting for send credit", e);
        } finally {
            lock.unlock();
        }
    }

    void credit(long increment) {
        lock.lock();
        try {
            available += increment;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void fail(RuntimeException e) {
        lock.lock();
        try {
            if (failure == null) {
                failure = e;
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    long available() {
        lock.lock();
        try {
            return available;
        } finally {
            lock.unlock();
        }
    }
}
