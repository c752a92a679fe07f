package dev.basalt.e2b.connect;

import java.util.concurrent.CompletableFuture;

/**
 * The response side of a server-streaming call. Messages are written and flushed one by one;
 * a slow client blocks {@link #send} (and so slows whoever produces the messages).
 *
 * @param <R> the response message type
 */
public interface StreamSink<R> {

    /**
     * Sends one message. Returns false, without sending, once the stream is closed: the client went
     * away or its deadline passed. Thread-safe.
     */
    boolean send(R message);

    /** Completes when the stream can take no more messages (client gone or deadline passed). */
    CompletableFuture<Void> closed();
}
