package dev.basalt.server;

import dev.basalt.api.BasaltException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The receiving side of a client stream, read by a worker thread with {@link #take}. Messages are
 * requested one at a time (manual flow control), only after the previous one was taken, so a client
 * that sends faster than the guest takes its data waits instead of filling the heap.
 */
final class Inbound<T> implements StreamObserver<T> {
    private static final Object END = new Object();

    private record Failure(Throwable error) {
    }

    private final ServerCallStreamObserver<?> call;
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();

    /** Must be created inside the RPC handler, before it returns. */
    Inbound(ServerCallStreamObserver<?> call) {
        this.call = call;
        call.disableAutoRequest();
        call.request(1);
    }

    /**
     * The next message, or null once the client half-closed (or {@link #close} was called).
     *
     * @throws BasaltException.Unavailable if the client cancelled or the stream failed
     */
    @SuppressWarnings("unchecked")
    T take() {
        Object next;
        try {
            next = queue.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BasaltException.Unavailable("interrupted while reading the client stream", e);
        }
        if (next == END) {
            queue.add(END);
            return null;
        }
        if (next instanceof Failure f) {
            queue.add(f);
            throw new BasaltException.Unavailable("the client stream ended abnormally: " + f.error().getMessage(), f.error());
        }
        call.request(1);
        return (T) next;
    }

    /** Makes pending and future {@link #take} calls return null. */
    void close() {
        queue.add(END);
    }

    /** Makes pending and future {@link #take} calls fail. */
    void fail(Throwable error) {
        queue.add(new Failure(error));
    }

    @Override
    public void onNext(T value) {
        queue.add(value);
    }

    @Override
    public void onError(Throwable t) {
        fail(t);
    }

    @Override
    public void onCompleted() {
        close();
    }
}
