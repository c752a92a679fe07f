package dev.basalt.vmm.agent;

import dev.basalt.protocol.Decoded;
import dev.basalt.protocol.Frame;
import dev.basalt.protocol.FrameCodec;
import dev.basalt.protocol.FrameDecoder;
import dev.basalt.protocol.Message;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.io.UncheckedIOException;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.BiFunction;

/**
 * An in-test peer speaking the codec over a real unix socket, for cases the real agent
 * cannot produce (wrong version, malformed frames, silence). {@code behaviour} maps each
 * received frame to the frames to answer (or null for the default answers).
 */
final class FakeAgent implements AutoCloseable {
    /** Every frame received except FILE_DATA (counted by {@link #fileBytes()} instead). */
    final Queue<Decoded> received = new ConcurrentLinkedQueue<>();
    private final Path dir;
    private final SocketChannel peer;
    private final Thread thread;
    private final BiFunction<Frame, FakeAgent, List<Frame>> behaviour;
    final UnixSocketTransport transport;
    volatile AgentClient client;

    private FakeAgent(Path dir, SocketChannel peer, UnixSocketTransport transport,
                      BiFunction<Frame, FakeAgent, List<Frame>> behaviour) {
        this.dir = dir;
        this.peer = peer;
        this.transport = transport;
        this.behaviour = behaviour;
        this.thread = Thread.ofPlatform().daemon().name("fake-agent").unstarted(this::serve);
    }

    /** A fake peer connected to a client (HELLO already answered). */
    static FakeAgent start(BiFunction<Frame, FakeAgent, List<Frame>> behaviour) throws Exception {
        return start(behaviour, ChannelWatch.DEFAULTS);
    }

    /** A fake peer connected to a client held to {@code watch}'s deadlines (HELLO already answered). */
    static FakeAgent start(BiFunction<Frame, FakeAgent, List<Frame>> behaviour, ChannelWatch watch) throws Exception {
        FakeAgent agent = listen(behaviour);
        try {
            agent.client = AgentClient.connect(agent.transport, Duration.ofSeconds(5), watch);
            return agent;
        } catch (RuntimeException e) {
            agent.close();
            throw e;
        }
    }

    /** A fake peer and the client side's transport, before HELLO. */
    static FakeAgent listen(BiFunction<Frame, FakeAgent, List<Frame>> behaviour) throws Exception {
        Path dir = Files.createTempDirectory("basalt-fake-agent");
        Path socket = dir.resolve("a.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            CompletableFuture<SocketChannel> accepted = CompletableFuture.supplyAsync(() -> {
                try {
                    return server.accept();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, Executors.newVirtualThreadPerTaskExecutor());
            UnixSocketTransport transport = UnixSocketTransport.connect(socket, Duration.ofSeconds(5));
            FakeAgent agent = new FakeAgent(dir, accepted.get(5, TimeUnit.SECONDS), transport, behaviour);
            agent.thread.start();
            return agent;
        }
    }

    private void serve() {
        FrameDecoder decoder = new FrameDecoder();
        ByteBuffer buf = ByteBuffer.allocate(256 * 1024);
        try {
            while (peer.read(buf.clear()) >= 0) {
                decoder.feed(buf.flip(), d -> {
                    if (!(d instanceof Frame f0 && f0.message() instanceof Message.FileData)) {
                        received.add(d);
                    }
                    if (d instanceof Frame f && f.message() instanceof Message.FileData fd) {
                        fileBytes += fd.data().length();
                    }
                    if (d instanceof Frame f) {
                        List<Frame> out = behaviour.apply(f, this);
                        for (Frame o : out == null ? defaults(f) : out) {
                            send(o);
                        }
                    }
                });
            }
        } catch (IOException e) {
            // closed
        }
    }

    private volatile long fileBytes;
    private long unacked;

    /** Default answers: HELLO, PING, STAT and file writes (crediting every 256 KiB). */
    private List<Frame> defaults(Frame f) {
        int id = f.streamId();
        return switch (f.message()) {
            case Message.Hello h -> List.of(new Frame(id, new Message.HelloReply(1, "fake", "test")));
            case Message.Ping p -> List.of(new Frame(id, new Message.Pong(p.nonce())));
            case Message.FileWrite w -> List.of();
            case Message.FileData d -> {
                unacked += d.data().length();
                if (unacked >= 256 * 1024) {
                    long n = unacked;
                    unacked = 0;
                    yield List.of(new Frame(id, new Message.Window(n)));
                }
                yield List.of();
            }
            case Message.FileEnd e -> List.of(new Frame(id, new Message.Ok()));
            default -> List.of();
        };
    }

    long fileBytes() {
        return fileBytes;
    }

    /** Sends raw bytes to the client. */
    synchronized void sendRaw(byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            peer.write(b);
        }
    }

    void send(Frame f) {
        try {
            sendRaw(FrameCodec.encode(f));
        } catch (IOException e) {
            // client gone
        }
    }

    /** Drops the connection as a dying agent would. */
    void hangUp() throws IOException {
        peer.close();
    }

    @Override
    public void close() throws IOException {
        if (client != null) {
            client.close();
        }
        transport.close();
        peer.close();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Files.deleteIfExists(dir.resolve("a.sock"));
        Files.deleteIfExists(dir);
    }
}
