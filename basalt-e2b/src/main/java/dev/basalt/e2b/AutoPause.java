package dev.basalt.e2b;

import dev.basalt.api.BasaltException;
import dev.basalt.api.SandboxState;
import dev.basalt.api.Sandboxes;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * E2B's {@code autoPause}: a sandbox created with it has no Basalt time to live; instead its
 * timeout pauses it (the record's {@code pauseAt}, re-armed when basaltd starts again). A sandbox
 * that cannot be paused at that moment (a command still streams to a client) is tried again every
 * {@link #RETRY}.
 */
public final class AutoPause implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AutoPause.class);
    static final Duration RETRY = Duration.ofSeconds(10);

    private final Sandboxes port;
    private final SandboxRecords records;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("e2b-auto-pause").daemon().factory());
    private final Map<String, ScheduledFuture<?>> scheduled = new ConcurrentHashMap<>();

    public AutoPause(Sandboxes port, SandboxRecords records) {
        this.port = port;
        this.records = records;
        for (E2bSandbox record : records.all()) {
            if (record.autoPause() && record.pauseAt() != null) {
                schedule(record.sandboxId(), record.pauseAt());
            }
        }
    }

    /** Sets (or moves) when the sandbox is paused, in its record and on the timer. */
    public void pauseAt(String sandboxId, Instant when) {
        records.get(sandboxId).ifPresent(r -> records.put(r.withPauseAt(when)));
        schedule(sandboxId, when);
    }

    private void schedule(String sandboxId, Instant when) {
        long delay = Math.max(0, Duration.between(Instant.now(), when).toMillis());
        ScheduledFuture<?> previous = scheduled.put(sandboxId,
                timer.schedule(() -> fire(sandboxId, when), delay, TimeUnit.MILLISECONDS));
        if (previous != null) {
            previous.cancel(false);
        }
    }

    private void fire(String sandboxId, Instant when) {
        E2bSandbox record = records.get(sandboxId).orElse(null);
        if (record == null || !when.equals(record.pauseAt())) {
            return;   // gone, or moved meanwhile
        }
        try {
            if (port.inspect(sandboxId).state() == SandboxState.PAUSED) {
                return;
            }
            port.pause(sandboxId);
            log.info("sandbox {} reached its timeout: paused (autoPause)", sandboxId);
        } catch (BasaltException.NotFound e) {
            scheduled.remove(sandboxId);
        } catch (BasaltException e) {
            log.info("sandbox {} reached its timeout but cannot be paused now ({}); trying again in {} s",
                    sandboxId, e.getMessage(), RETRY.toSeconds());
            scheduled.put(sandboxId, timer.schedule(() -> fire(sandboxId, when), RETRY.toMillis(), TimeUnit.MILLISECONDS));
        }
    }

    /** Forgets a sandbox that is gone. */
    public void forget(String sandboxId) {
        ScheduledFuture<?> f = scheduled.remove(sandboxId);
        if (f != null) {
            f.cancel(false);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
