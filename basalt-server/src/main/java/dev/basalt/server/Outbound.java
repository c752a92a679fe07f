package dev.basalt.server;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The sending side of a server stream with flow control and cancellation. {@link #send} blocks while
 * the client is not ready for more (a slow reader), so whoever produces the data (the guest, through
 * the core's blocking output callback) is slowed down instead of filling the heap. It must be used
 * from a worker thread, never from a gRPC callback: the ready and cancel notifications of a call run
 * on the transport's threads (the server uses a direct executor); cancel hooks run on a virtual thread.
 */
final class Outbound<T> {
    /** Work that ends the call: its success completes the stream, its exception becomes the status. */
    interface Body {
        void run() throws Exception;
    }

    private final ServerCallStreamObserver<T> call;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ready = lock.newCondition();
    private final List<Runnable> cancelHooks = new ArrayList<>();
    private boolean cancelled;
    private boolean closed;

    /** Must be created inside the RPC handler, before it returns. */
    Outbound(StreamObserver<T> observer) {
        this.call = (ServerCallStreamObserver<T>) observer;
        call.setOnReadyHandler(this::wake);
        call.setOnCancelHandler(this::cancelled);
    }

    ServerCallStreamObserver<T> call() {
        return call;
    }

    /** Sends once the client can take it; false (and nothing sent) if the call was cancelled or ended. */
    boolean send(T message) {
        lock.lock();
        try {
            while (!call.isReady() && !cancelled && !closed) {
                ready.await(200, TimeUnit.MILLISECONDS);
            }
            if (cancelled || closed) {
                return false;
            }
            call.onNext(message);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** Runs {@code hook} when the client cancels (at once if it already has). */
    void onCancel(Runnable hook) {
        lock.lock();
        try {
            if (!cancelled) {
                cancelHooks.add(hook);
                return;
            }
        } finally {
            lock.unlock();
        }
        hook.run();
    }

    boolean isCancelled() {
        lock.lock();
        try {
            return cancelled;
        } finally {
            lock.unlock();
        }
    }

    /** Runs {@code body} and ends the call with its outcome. */
    void finishWith(Body body) {
        try {
            body.run();
            complete();
        } catch (Throwable t) {
            fail(t);
        }
    }

    void complete() {
        lock.lock();
        try {
            if (!cancelled && !closed) {
                closed = true;
                call.onCompleted();
            }
        } finally {
            lock.unlock();
        }
    }

    void fail(Throwable t) {
        lock.lock();
        try {
            if (!cancelled && !closed) {
                closed = true;
                call.onError(StatusMapping.toStatus(t).asRuntimeException());
            }
        } finally {
            lock.unlock();
        }
    }

    private void cancelled() {
        List<Runnable> hooks;
        lock.lock();
        try {
            cancelled = true;
            ready.signalAll();
            hooks = List.copyOf(cancelHooks);
            cancelHooks.clear();
        } finally {
            lock.unlock();
        }
        if (!hooks.isEmpty()) {
            // the callback runs on a transport thread: a hook may block (it cancels work in the guest)
            Thread.ofVirtual().name("grpc-cancel").start(() -> hooks.forEach(Runnable::run));
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
