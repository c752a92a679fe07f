package dev.basalt.e2b.envd;

import dev.basalt.api.BasaltException;
import dev.basalt.api.Sandboxes;
import dev.basalt.e2b.SandboxRecords;
import dev.basalt.e2b.envd.FilesystemMessages.FilesystemEvent;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The watchers of CreateWatcher / GetWatcherEvents / RemoveWatcher: each polls its directory on
 * a virtual thread and keeps the events until they are read (at most {@value #MAX_PENDING}, the
 * oldest dropped). A watcher nobody read for {@link #IDLE_LIMIT} stops by itself.
 */
final class Watchers implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Watchers.class);
    static final int MAX_PENDING = 10_000;
    static final int MAX_PER_SANDBOX = 64;
    static final Duration IDLE_LIMIT = Duration.ofMinutes(10);

    private final Sandboxes port;
    private final Duration interval;
    private final Map<String, Map<String, Watcher>> bySandbox = new ConcurrentHashMap<>();

    private final class Watcher {
        final String id;
        final String sandboxId;
        final Thread thread;
        final Deque<FilesystemEvent> pending = new ArrayDeque<>();
        volatile long lastReadNanos = System.nanoTime();

        Watcher(String id, String sandboxId, String path, int depth, boolean includeEntry) {
            this.id = id;
            this.sandboxId = sandboxId;
            DirSnapshot first = DirSnapshot.take(port, sandboxId, path, depth);
            this.thread = Thread.ofVirtual().name("e2b-watcher-" + id).start(() -> poll(first, depth, includeEntry));
        }

        private void poll(DirSnapshot before, int depth, boolean includeEntry) {
            try {
                while (System.nanoTime() - lastReadNanos < IDLE_LIMIT.toNanos()) {
                    Thread.sleep(interval);
                    DirSnapshot now = DirSnapshot.take(port, sandboxId, before.root(), depth);
                    List<FilesystemEvent> events = before.changesTo(now, includeEntry);
                    synchronized (pending) {
                        pending.addAll(events);
                        while (pending.size() > MAX_PENDING) {
                            pending.removeFirst();
                        }
                    }
                    before = now;
                }
            } catch (InterruptedException e) {
                return;
            } catch (BasaltException e) {
                log.debug("watcher {} of sandbox {} stops: {}", id, sandboxId, e.getMessage());
            }
            remove(sandboxId, id);
        }

        List<FilesystemEvent> drain() {
            lastReadNanos = System.nanoTime();
            synchronized (pending) {
                List<FilesystemEvent> out = new ArrayList<>(pending);
                pending.clear();
                return out;
            }
        }
    }

    Watchers(Sandboxes port, Duration interval) {
        this.port = port;
        this.interval = interval;
    }

    String create(String sandboxId, String path, int depth, boolean includeEntry) {
        Map<String, Watcher> watchers = bySandbox.computeIfAbsent(sandboxId, k -> new ConcurrentHashMap<>());
        if (watchers.size() >= MAX_PER_SANDBOX) {
            throw new BasaltException.ResourceExhausted("sandbox " + sandboxId + " has " + MAX_PER_SANDBOX
                    + " watchers already: remove one first");
        }
        String id = SandboxRecords.newToken().substring(0, 16);
        watchers.put(id, new Watcher(id, sandboxId, path, depth, includeEntry));
        return id;
    }

    List<FilesystemEvent> drain(String sandboxId, String watcherId) {
        return watcher(sandboxId, watcherId).drain();
    }

    void remove(String sandboxId, String watcherId) {
        Map<String, Watcher> watchers = bySandbox.get(sandboxId);
        Watcher w = watchers == null || watcherId == null ? null : watchers.remove(watcherId);
        if (w != null && w.thread != Thread.currentThread()) {
            w.thread.interrupt();
        }
    }

    private Watcher watcher(String sandboxId, String watcherId) {
        Map<String, Watcher> watchers = bySandbox.get(sandboxId);
        Watcher w = watchers == null || watcherId == null ? null : watchers.get(watcherId);
        if (w == null) {
            throw new BasaltException.NotFound("watcher '" + watcherId + "' not found (a watcher unread for "
                    + IDLE_LIMIT.toMinutes() + " minutes stops)");
        }
        return w;
    }

    void forget(String sandboxId) {
        Map<String, Watcher> watchers = bySandbox.remove(sandboxId);
        if (watchers != null) {
            watchers.values().forEach(w -> w.thread.interrupt());
        }
    }

    @Override
    public void close() {
        for (String sandboxId : List.copyOf(bySandbox.keySet())) {
            forget(sandboxId);
        }
    }
}
