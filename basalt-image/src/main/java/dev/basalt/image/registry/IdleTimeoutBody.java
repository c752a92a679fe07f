package dev.basalt.image.registry;

import dev.basalt.api.BasaltException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Flow;

/**
 * A response body as an {@link InputStream} whose reads give up when no byte arrived for the idle
 * timeout (the JDK's own body stream waits forever on a server that stalls mid-body). Pulls one
 * chunk list at a time from the HTTP client, so a slow reader slows the download, never the heap.
 */
final class IdleTimeoutBody extends InputStream implements Flow.Subscriber<List<ByteBuffer>> {
    private static final Object END = new Object();

    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final long idleNanos;
    private final String what;
    private volatile Flow.Subscription subscription;
    private Iterator<ByteBuffer> current = List.<ByteBuffer>of().iterator();
    private ByteBuffer buffer;
    private boolean done;

    IdleTimeoutBody(Duration idle, String what) {
        this.idleNanos = idle.toNanos();
        this.what = what;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        s.request(1);
    }

    @Override
    public void onNext(List<ByteBuffer> item) {
        queue.add(item);
    }

    @Override
    public void onError(Throwable t) {
        queue.add(t);
    }

    @Override
    public void onComplete() {
        queue.add(END);
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (buffer == null || !buffer.hasRemaining()) {
            if (current.hasNext()) {
                buffer = current.next();
                continue;
            }
            if (done) {
                return -1;
            }
            Object next;
            try {
                next = queue.poll(idleNanos, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IOException("interrupted while reading " + what, e);
            }
            if (next == null) {
                close();
                throw new BasaltException.TimedOut(what + ": no data for " + TimeUnit.NANOSECONDS.toSeconds(idleNanos)
                        + " s; the transfer was abandoned");
            }
            if (next == END) {
                done = true;
                return -1;
            }
            if (next instanceof Throwable t) {
                done = true;
                throw new IOException(what + ": " + t.getMessage(), t);
            }
            @SuppressWarnings("unchecked")
            List<ByteBuffer> list = (List<ByteBuffer>) next;
            current = list.iterator();
            subscription.request(1);
        }
        int n = Math.min(len, buffer.remaining());
        buffer.get(b, off, n);
        return n;
    }

    @Override
    public void close() {
        Flow.Subscription s = subscription;
        if (!done && s != null) {
            done = true;
            s.cancel();
        }
        queue.clear();
    }
}
