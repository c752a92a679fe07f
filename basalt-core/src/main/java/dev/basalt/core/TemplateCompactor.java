package dev.basalt.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives a template's zero pages back after forks and checkpoints read them in.
 *
 * <p>Saving a template clone (fork, checkpoint) makes QEMU read every page of the guest's RAM,
 * and a read fault on a hole of a tmpfs file allocates a zero-filled page in the file itself. The
 * template's memory file, which every clone maps copy-on-write, thus grew from 34 MiB to its full
 * 256 MiB on /dev/shm with its first fork. Nobody writes that file once the template exists, so
 * its zero pages can be punched out again without changing what anyone reads ({@link ZeroPages}).
 * That happens {@link #QUIET} after a template's last save, so a session that forks every few
 * minutes pays for the growth (~0.4 s of page faults per 256 MiB here) once; and for every
 * template still waiting when the manager closes.
 *
 * <p>Thread-safe. {@link #afterSave} may be called until {@link #close()}.
 */
final class TemplateCompactor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TemplateCompactor.class);
    static final Duration QUIET = Duration.ofMinutes(5);

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "basalt-template-compactor");
        t.setDaemon(true);
        return t;
    });
    private final Map<Path, ScheduledFuture<?>> pending = new ConcurrentHashMap<>();

    /** A VM whose memory is a private mapping of {@code memoryFile} had its state saved: compact the file later. */
    void afterSave(Path memoryFile) {
        pending.compute(memoryFile, (file, earlier) -> {
            if (earlier != null) {
                earlier.cancel(false);
            }
            CompletableFuture<ScheduledFuture<?>> self = new CompletableFuture<>();
            try {
                ScheduledFuture<?> task = timer.schedule(() -> {
                    pending.remove(file, self.join());
                    compact(file);
                }, QUIET.toMillis(), TimeUnit.MILLISECONDS);
                self.complete(task);
                return task;
            } catch (RejectedExecutionException e) {
                return null;   // closed: close() compacted what was waiting
            }
        });
    }

    /** Punches the zero pages out of {@code memoryFile} now; a file that is gone is skipped. */
    static void compact(Path memoryFile) {
        if (!Files.exists(memoryFile)) {
            return;   // the template was evicted meanwhile
        }
        long start = System.nanoTime();
        try {
            long zero = ZeroPages.punch(memoryFile);
            log.debug("compacted {}: {} MiB of zero pages punched out in {} ms", memoryFile, zero >> 20,
                    (System.nanoTime() - start) / 1_000_000);
        } catch (IOException e) {
            log.warn("cannot give the zero pages of {} back: {}", memoryFile, e.getMessage());
        }
    }

    /** Runs the compactions still waiting, now. */
    @Override
    public void close() {
        timer.shutdownNow();
        List<Path> waiting = List.copyOf(pending.keySet());
        pending.clear();
        waiting.forEach(TemplateCompactor::compact);
    }
}
