package dev.basalt.vmm.agent;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * A byte stream to one guest agent: the seam between {@link AgentClient} and the channel
 * (a virtio-serial chardev socket today, vsock later). An {@link AgentClient} owns its
 * transport: one thread reads, writes are serialized by the client, and {@link #close()}
 * may be called from any thread at any time.
 */
public interface AgentTransport extends Closeable {

    /**
     * Reads at least one byte into {@code dst}, blocking until some arrive.
     * Allowed only from the single reader thread, until {@link #close()}.
     *
     * @return the number of bytes read, or -1 at end of stream
     * @throws IOException if the channel failed or was closed
     */
    int read(ByteBuffer dst) throws IOException;

    /**
     * Writes every remaining byte of {@code src}, blocking as long as needed.
     * Allowed from one thread at a time (the client holds its write lock), until {@link #close()}.
     */
    void write(ByteBuffer src) throws IOException;

    /** Closes the channel and unblocks a pending read or write. Idempotent; allowed at any time. */
    @Override
    void close() throws IOException;

    /** A short name for logs and thread names. Allowed at any time. */
    String name();

    /** Opens a transport, e.g. by connecting to a socket; used to (re)connect to an agent. */
    @FunctionalInterface
    interface Factory {
        /** Opens a new transport, giving up after {@code timeout}. */
        AgentTransport open(Duration timeout) throws IOException;
    }
}
