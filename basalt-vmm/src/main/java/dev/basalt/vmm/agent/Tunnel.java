package dev.basalt.vmm.agent;

import dev.basalt.protocol.Bytes;
import dev.basalt.protocol.ErrorCode;
import dev.basalt.protocol.Message;
import dev.basalt.protocol.Protocol;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The host end of one tunnel ({@code TUNNEL_ACCEPT}, docs/protocol.md): a TCP connection a guest
 * program makes to {@code 127.0.0.1:port}, carried on a stream the host opened in advance.
 * {@link #awaitOpened} waits until a guest program connects; then {@link #input()} reads what the
 * program sends (-1 once it half-closed) and {@link #output()} writes to it ({@code close()}
 * half-closes), both paced by the stream's credit. {@link #close()} ends the tunnel (the
 * connection is reset if it was still open). One reader and one writer thread at most.
 */
public final class Tunnel implements AutoCloseable {
    private static final Duration FOREVER = Duration.ofDays(365);
    private final AgentChannel channel;
    private final int id;
    private final Inbox<Message> inbox;
    private final Handler handler;
    private volatile boolean ended;

    private Tunnel(AgentChannel channel, int id, Inbox<Message> inbox, Handler handler) {
        this.channel = channel;
        this.id = id;
        this.inbox = inbox;
        this.handler = handler;
    }

    static Tunnel accept(AgentChannel channel, int port, Duration sendTimeout) {
        AtomicReference<Inbox<Message>> made = new AtomicReference<>();
        AtomicReference<Handler> handler = new AtomicReference<>();
        int id = channel.open(sid -> {
            made.set(new Inbox<>(channel, sid));
            handler.set(new Handler(made.get(), "tunnel on port " + port));
            return handler.get();
        });
        channel.send(id, new Message.TunnelAccept(port), Deadline.in(sendTimeout, "tunnel on port " + port));
        return new Tunnel(channel, id, made.get(), handler.get());
    }

    /** Waits until a guest program has connected; throws if the stream failed or the time passed. */
    public void awaitOpened(Duration timeout) {
        Message m = inbox.take(Deadline.in(timeout, "waiting for a tunnelled connection"));
        if (!(m instanceof Message.TunnelOpened)) {
            throw new AgentException(ErrorCode.BAD_FRAME, "tunnel: " + m.getClass().getSimpleName() + " before TUNNEL_OPENED");
        }
    }

    /** What the guest program sends; -1 after its half-close. */
    public InputStream input() {
        return new InputStream() {
            private java.nio.ByteBuffer current;
            private int currentLength;
            private boolean eof;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 255;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                while (current == null || !current.hasRemaining()) {
                    if (current != null) {
                        inbox.consumed(currentLength);   // delivered: the agent may send as much again
                        current = null;
                    }
                    if (eof) {
                        return -1;
                    }
                    Message m;
                    try {
                        m = inbox.take(Deadline.in(FOREVER, "tunnel read"));
                    } catch (AgentException e) {
                        throw new IOException(e.getMessage(), e);
                    }
                    switch (m) {
                        case Message.TunnelData d -> {
                            current = d.data().asReadOnlyBuffer();
                            currentLength = d.data().length();
                        }
                        case Message.TunnelEof e -> eof = true;
                        case Message.Ok o -> eof = true;
                        default -> { }
                    }
                }
                int n = Math.min(len, current.remaining());
                current.get(b, off, n);
                return n;
            }
        };
    }

    /** Writes to the guest program; {@code close()} half-closes its connection. */
    public OutputStream output() {
        return new OutputStream() {
            private boolean closed;

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                try {
                    Deadline d = Deadline.in(FOREVER, "tunnel write");
                    while (len > 0) {
                        int take = handler.window.acquire(Math.min(len, Protocol.HOST_CHUNK), d);
                        channel.send(id, new Message.TunnelData(Bytes.copyOf(b, off, take)), d);
                        off += take;
                        len -= take;
                    }
                } catch (AgentException e) {
                    throw new IOException(e.getMessage(), e);
                }
            }

            @Override
            public void close() throws IOException {
                if (closed) {
                    return;
                }
                closed = true;
                try {
                    channel.send(id, new Message.TunnelEof(), Deadline.in(Duration.ofSeconds(30), "tunnel half-close"));
                } catch (AgentException e) {
                    throw new IOException(e.getMessage(), e);
                }
            }
        };
    }

    /** Ends the tunnel: cancels the stream unless the agent ended it already. Idempotent. */
    @Override
    public void close() {
        if (!ended && !handler.ended) {
            ended = true;
            channel.cancel(id);
        }
    }

    /** TUNNEL stream: OPENED, DATA..., EOF, then OK (terminal) or ERROR; WINDOW credits the host's sending. */
    private static final class Handler implements StreamHandler {
        final SendWindow window = new SendWindow();
        private final Inbox<Message> inbox;
        private final String operation;
        volatile boolean ended;

        Handler(Inbox<Message> inbox, String operation) {
            this.inbox = inbox;
            this.operation = operation;
        }

        @Override
        public boolean onMessage(Message message) {
            switch (message) {
                case Message.Window w -> {
                    window.credit(w.increment());
                    return false;
                }
                case Message.Error e -> {
                    ended = true;
                    AgentException failure = new AgentException(e.code(), operation + ": " + e.message());
                    inbox.fail(failure);
                    window.fail(failure);
                    return true;
                }
                case Message.Ok o -> {
                    ended = true;
                    inbox.markEnded();
                    inbox.push(o, 0);
                    window.fail(new AgentException(null, operation + ": ended"));
                    return true;
                }
                case Message.TunnelData d -> {
                    if (!inbox.push(d, d.data().length())) {
                        inbox.fail(new AgentException(ErrorCode.BAD_FRAME, operation + ": agent sent more data than its window allows"));
                    }
                    return false;
                }
                default -> {
                    inbox.push(message, 0);
                    return false;
                }
            }
        }

        @Override
        public void onFailure(AgentException failure) {
            ended = true;
            inbox.fail(failure);
            window.fail(failure);
        }
    }
}
