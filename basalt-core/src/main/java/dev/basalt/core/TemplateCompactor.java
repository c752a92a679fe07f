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
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives back the zero pages that clones and saves fault into template files.
 *
 * <p>Clones map a template's memory file copy-on-write, and a fault on a hole of a tmpfs file,
 * read or write, allocates a zero-filled page in the file itself: a clone writing 100 MB grew its
 * template from 34 to 126 MiB, and saving a clone (fork, checkpoint) reads every page, so the first
 * fork took it to the full 256 MiB. Nobody writes a published template file, so its zero pages can
 * be punched out again without changing what anyone reads ({@link ZeroPages}). That happens
 * {@link #afterSave quiet} after a template's last save (so a session that forks every few
 * minutes pays the growth, ~0.4 s of page faults per 256 MiB here, once), in a sweep every
 * {@code quiet} for templates that grew by more than {@link #SWEEP_GROWTH_MIB} since this
 * compactor last saw them, and on {@link #close()} for saves still waiting.
 *
 * <p>Thread-safe. {@link #afterSave} may be called until {@link #close()}.
 */
final class TemplateCompactor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TemplateCompactor.class);
    static final Duration QUIET = Duration.ofMinutes(5);
    /** Growth below which a sweep leaves a template alone (reading it costs ~0.5 ms per MiB here). */
    static final long SWEEP_GROWTH_MIB = 32;

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "basalt-template-compactor");
        t.setDaemon(true);
        return t;
    });
    private final Map<Path, ScheduledFuture<?>> pending = new ConcurrentHashMap<>();
    /** Allocation of each template file right after this compactor last compacted it. */
    private final Map<Path, Long> compactedBytes = new ConcurrentHashMap<>();
    private final Path templatesRoot;
    private final Duration quiet;

    /** Compacts the templates under {@code templatesRoot}: {@code quiet} after saves, and in a sweep every {@code quiet}. */
    TemplateCompactor(Path templatesRoot, Duration quiet) {
        this.templatesRoot = templatesRoot;
        this.quiet = quiet;
        timer.scheduleWithFixedDelay(this::sweep, quiet.toMillis(), quiet.toMillis(), TimeUnit.MILLISECONDS);
    }

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
                    compactAndRemember(file);
                }, quiet.toMillis(), TimeUnit.MILLISECONDS);
                self.complete(task);
                return task;
            } catch (RejectedExecutionException e) {
                return null;   // closed: close() compacted what was waiting
            }
        });
    }

    /** Compacts every published template that grew by {@link #SWEEP_GROWTH_MIB} since it was last compacted here. */
    private void sweep() {
        List<Path> files;
        try (Stream<Path> dirs = Files.list(templatesRoot)) {
            files = dirs.filter(d -> !d.getFileName().toString().startsWith("."))   // ".key.*": being built
                    .map(d -> d.resolve("memory.ram")).filter(Files::isRegularFile).toList();
        } catch (IOException e) {
            log.debug("cannot list {}: {}", templatesRoot, e.getMessage());
            return;
        }
        for (Path file : files) {
            try {
                long allocated = ZeroPages.allocatedBytes(file);
                Long before = compactedBytes.get(file);
                if (before == null || allocated - before > SWEEP_GROWTH_MIB << 20) {
                    compactAndRemember(file);
                }
            } catch (IOException e) {
                log.debug("cannot stat {}: {}", file, e.getMessage());   // evicted meanwhile
            }
        }
    }

    private void compactAndRemember(Path file) {
        compact(file);
        try {
            compactedBytes.put(file, ZeroPages.allocatedBytes(file));
        } catch (IOException e) {
            compactedBytes.remove(file);
        }
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
        compactedBytes.clear();
    }
}
