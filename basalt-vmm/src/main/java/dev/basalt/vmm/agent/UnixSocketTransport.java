package dev.basalt.vmm.agent;

import java.io.IOException;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@link AgentTransport} over a unix stream socket, such as the one behind a QEMU
 * {@code virtserialport} chardev. Thread-safety: one reader and one writer at a time
 * may use it concurrently; {@link #close()} is allowed from any thread.
 */
public final class UnixSocketTransport implements AgentTransport {
    private static final Logger log = LoggerFactory.getLogger(UnixSocketTransport.class);
    private static final long RETRY_NANOS = Duration.ofMillis(2).toNanos();

    private final SocketChannel channel;
    private final String name;

    private UnixSocketTransport(SocketChannel channel, String name) {
        this.channel = channel;
        this.name = name;
    }

    /** Wraps an already connected blocking channel (for example one accepted from a listening socket). */
    public static UnixSocketTransport of(SocketChannel connected, String name) {
        Objects.requireNonNull(connected, "connected");
        if (!connected.isBlocking()) {
            throw new IllegalArgumentException("channel must be in blocking mode");
        }
        return new UnixSocketTransport(connected, Objects.requireNonNull(name, "name"));
    }

    /**
     * Connects to the socket at {@code path}, retrying while it does not exist yet or
     * refuses connections (QEMU creates it a few ms after starting), until {@code timeout}.
     *
     * @throws IOException naming the path and the last failure when the deadline passes
     */
    public static UnixSocketTransport connect(Path path, Duration timeout) throws IOException {
        return connect(path, timeout, path.getFileName().toString());
    }

    /**
     * {@link #connect(Path, Duration)}, the transport named {@code name} (the sandbox's id: logs and
     * errors about the channel name it).
     */
    public static UnixSocketTransport connect(Path path, Duration timeout, String name) throws IOException {
        Objects.requireNonNull(name, "name");
        long deadline = System.nanoTime() + timeout.toNanos();
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(path);
        int attempts = 0;
        while (true) {
            attempts++;
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(address);
                log.debug("connected to agent socket {} after {} attempt(s)", path, attempts);
                return new UnixSocketTransport(ch, name);
            } catch (SocketException e) { // refused, or the socket file does not exist yet
                ch.close();
                if (System.nanoTime() - deadline >= 0) {
                    throw new IOException("could not connect to agent socket " + path + " within " + timeout
                            + " (" + attempts + " attempts): " + e.getMessage(), e);
                }
                java.util.concurrent.locks.LockSupport.parkNanos(RETRY_NANOS);
                if (Thread.interrupted()) {
                    throw new java.io.InterruptedIOException("interrupted while connecting to " + path);
                }
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
        }
    }

    /** A factory connecting to {@code path}, for {@link AgentTransport.Factory} users. */
    public static AgentTransport.Factory factory(Path path) {
        return timeout -> connect(path, timeout);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return channel.read(dst);
    }

    @Override
    public void write(ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            channel.write(src);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return "UnixSocketTransport[" + name + "]";
    }
}
