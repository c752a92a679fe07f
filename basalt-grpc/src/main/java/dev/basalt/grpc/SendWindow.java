package dev.basalt.grpc;

import dev.basalt.api.BasaltException;
import io.grpc.stub.ClientCallStreamObserver;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The sending side of a client stream with flow control: {@link #send} blocks while the transport
 * is not ready (the server is slow to take messages), so a fast writer never queues unbounded data.
 * All sends and the cancel go through here, so the underlying observer is used by one thread at a time.
 */
final class SendWindow<T> {
    private final ClientCallStreamObserver<T> call;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ready = lock.newCondition();
    private boolean finished;
    private Throwable failure;

    SendWindow(ClientCallStreamObserver<T> call) {
        this.call = call;
        call.setOnReadyHandler(this::wake);
    }

    /**
     * Sends {@code message} once the transport has room. Ignored after the call ended normally;
     * throws the mapped error after it failed.
     */
    void send(T message) {
        lock.lock();
        try {
            while (!call.isReady() && !finished) {
                ready.await(200, TimeUnit.MILLISECONDS);
            }
            if (failure != null) {
                throw RemoteErrors.toException(failure);
            }
            if (!finished) {
                call.onNext(message);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BasaltException.Unavailable("interrupted while sending to basaltd", e);
        } finally {
            lock.unlock();
        }
    }

    /** Half-closes the client side (no more messages). */
    void complete() {
        lock.lock();
        try {
            if (!finished) {
                call.onCompleted();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Cancels the call; the server sees the cancellation and undoes or kills what it started. */
    void cancel(String why, Throwable cause) {
        lock.lock();
        try {
            if (!finished) {
                call.cancel(why, cause);
                finished = true;
            }
        } finally {
            lock.unlock();
        }
    }

    /** The call ended: normally when {@code error} is null. Wakes a blocked sender. */
    void finished(Throwable error) {
        lock.lock();
        try {
            finished = true;
            if (error != null && failure == null) {
                failure = error;
            }
            ready.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void wake() {
        lock.lock();
        try {
            ready.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
