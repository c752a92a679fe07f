package dev.basalt.core;

import dev.basalt.api.EventFilter;
import dev.basalt.api.SandboxEvent;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fans lifecycle events out to subscribers. Publishing never blocks: each subscriber has a bounded
 * queue drained by its own virtual thread; a subscriber that falls {@value #CAPACITY} events
 * behind is dropped instead of growing memory.
 */
final class EventBus implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventBus.class);
    static final int CAPACITY = 10_000;

    private final Set<Subscriber> subscribers = new CopyOnWriteArraySet<>();

    AutoCloseable subscribe(EventFilter filter, Consumer<SandboxEvent> listener) {
        Subscriber s = new Subscriber(filter, listener);
        subscribers.add(s);
        s.thread = Thread.ofVirtual().name("events").start(s::drain);
        return s;
    }

    /** Offers the event to every matching subscriber; callable under locks (never blocks). */
    void publish(SandboxEvent event) {
        for (Subscriber s : subscribers) {
            if (s.filter.matches(event) && !s.queue.offer(event)) {
                log.warn("dropping an event subscriber that is {} events behind", CAPACITY);
                s.close();
            }
        }
    }

    @Override
    public void close() {
        subscribers.forEach(Subscriber::close);
    }

    private final class Subscriber implements AutoCloseable {
        private final EventFilter filter;
        private final Consumer<SandboxEvent> listener;
        private final BlockingQueue<SandboxEvent> queue = new ArrayBlockingQueue<>(CAPACITY);
        private volatile Thread thread;
        private volatile boolean closed;

        Subscriber(EventFilter filter, Consumer<SandboxEvent> listener) {
            this.filter = filter;
            this.listener = listener;
        }

        private void drain() {
            while (!closed) {
                try {
                    SandboxEvent e = queue.take();
                    listener.accept(e);
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    log.warn("event listener failed: {}", e.toString());
                }
            }
        }

        @Override
        public void close() {
            closed = true;
            subscribers.remove(this);
            Thread t = thread;
            if (t != null) {
                t.interrupt();
            }
        }
    }
}
