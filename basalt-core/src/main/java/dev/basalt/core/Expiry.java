package dev.basalt.core;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** Runs an action for a sandbox id when its time to live runs out; rescheduling replaces the old time. */
final class Expiry implements AutoCloseable {
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "basalt-ttl");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, ScheduledFuture<?>> pending = new ConcurrentHashMap<>();
    private final Consumer<String> onExpiry;

    Expiry(Consumer<String> onExpiry) {
        this.onExpiry = onExpiry;
    }

    void schedule(String id, Instant when) {
        long delay = Math.max(0, Duration.between(Instant.now(), when).toMillis());
        ScheduledFuture<?> f = timer.schedule(() -> {
            pending.remove(id);
            Thread.ofVirtual().name("expire-" + id).start(() -> onExpiry.accept(id));
        }, delay, TimeUnit.MILLISECONDS);
        ScheduledFuture<?> old = pending.put(id, f);
        if (old != null) {
            old.cancel(false);
        }
    }

    void cancel(String id) {
        ScheduledFuture<?> f = pending.remove(id);
        if (f != null) {
            f.cancel(false);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        pending.clear();
    }
}
