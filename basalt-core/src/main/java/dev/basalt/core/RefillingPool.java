package dev.basalt.core;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A pool of ready-made things (READY sandboxes, standby VMs) kept at a target size by one
 * background virtual thread, which starts on an item once nothing was taken for 100 ms. Taking
 * never waits: it returns what is there or nothing. Failures to
 * make an item are logged and retried with a growing pause, so a broken image cannot spin.
 */
final class RefillingPool<T> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RefillingPool.class);
    /**
     * A refill starts only once nothing was taken for this long, so that it does not compete for
     * the CPU with what was just handed out (its first operations) or with the rest of a burst.
     */
    private static final long QUIET_MILLIS = 100;

    private final String name;
    private final int target;
    private final Supplier<T> factory;
    private final Consumer<T> disposer;
    private final Deque<T> items = new ArrayDeque<>();
    private final Thread refiller;
    private long lastTakeNanos;
    private long hits;
    private long misses;
    private boolean closed;

    RefillingPool(String name, int target, Supplier<T> factory, Consumer<T> disposer) {
        this.name = name;
        this.target = target;
        this.factory = factory;
        this.disposer = disposer;
        this.refiller = target > 0 ? Thread.ofVirtual().name("pool-" + name).start(this::refill) : null;
    }

    /** Takes an item if one is ready. */
    synchronized Optional<T> poll() {
        T item = items.pollFirst();
        if (item == null) {
            misses++;
        } else {
            hits++;
            lastTakeNanos = System.nanoTime();
            notifyAll();
        }
        return Optional.ofNullable(item);
    }

    /** How long the refill still waits for the pool to be quiet: {@link #QUIET_MILLIS} after the last take. */
    private long quietLeftMillis() {
        return lastTakeNanos == 0 ? 0 : QUIET_MILLIS - (System.nanoTime() - lastTakeNanos) / 1_000_000;
    }

    synchronized int ready() {
        return items.size();
    }

    int target() {
        return target;
    }

    synchronized long hits() {
        return hits;
    }

    synchronized long misses() {
        return misses;
    }

    private void refill() {
        long backoffMillis = 0;
        while (true) {
            synchronized (this) {
                try {
                    while (!closed) {
                        if (items.size() >= target) {
                            wait();
                        } else {
                            long quietLeft = quietLeftMillis();
                            if (quietLeft <= 0) {
                                break;
                            }
                            wait(quietLeft);
                        }
                    }
                } catch (InterruptedException e) {
                    return;
                }
                if (closed) {
                    return;
                }
            }
            T item;
            try {
                item = factory.get();
                backoffMillis = 0;
            } catch (RuntimeException e) {
                if (isClosed()) {
                    return;                 // interrupted by close(): the factory cleaned up after itself
                }
                backoffMillis = Math.min(30_000, Math.max(500, backoffMillis * 2));
                log.warn("pool {}: cannot make an item ({}); retrying in {} ms", name, e.getMessage(), backoffMillis);
                try {
                    Thread.sleep(backoffMillis);
                } catch (InterruptedException ie) {
                    return;
                }
                continue;
            }
            boolean keep;
            synchronized (this) {
                keep = !closed;
                if (keep) {
                    items.addLast(item);
                }
            }
            if (!keep) {
                Thread.interrupted();       // close()'s interrupt came too late to stop the factory
                disposer.accept(item);
                return;
            }
        }
    }

    private synchronized boolean isClosed() {
        return closed;
    }

    /**
     * Stops refilling (an item being made is abandoned: the refill thread is interrupted, which
     * makes the factory give up and clean up) and disposes of every item still in the pool.
     */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        if (refiller != null) {
            refiller.interrupt();
            try {
                refiller.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Deque<T> left;
        synchronized (this) {
            left = new ArrayDeque<>(items);
            items.clear();
        }
        left.forEach(disposer);
    }
}
