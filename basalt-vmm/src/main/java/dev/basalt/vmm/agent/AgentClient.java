package dev.basalt.vmm.agent;

import dev.basalt.protocol.DirEntry;
import dev.basalt.protocol.ErrorCode;
import dev.basalt.protocol.Message;
import dev.basalt.protocol.Protocol;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operations of one guest agent — ping, exec, files, identity, shutdown — each a stream on
 * the multiplexed {@link AgentChannel} it owns (protocol in {@code docs/protocol.md}).
 *
 * <p>Every blocking method takes a timeout and throws {@link AgentTimeoutException}
 * when it expires (cancelling the stream); once the channel dies every pending and later
 * call throws {@link AgentDisconnectedException}. All methods are thread-safe and meant to
 * be called from virtual threads. Operations are allowed from {@link #connect} until
 * {@link #close()} or until the channel is lost.
 */
public final class AgentClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AgentClient.class);

    private final AgentChannel channel;
    private final String name;
    private final AtomicLong nextNonce = new AtomicLong(1);
    private volatile Message.HelloReply hello;

    private AgentClient(AgentChannel channel) {
        this.channel = channel;
        this.name = channel.name();
    }

    /**
     * Starts a client on {@code transport} (taking ownership of it), sends {@code HELLO} and
     * checks that the agent speaks protocol {@value Protocol#VERSION}.
     *
     * @throws AgentException {@code UNSUPPORTED_VERSION} if the agent speaks another version,
     *                        {@link AgentTimeoutException} / {@link AgentDisconnectedException} otherwise
     */
    public static AgentClient connect(AgentTransport transport, Duration helloTimeout) {
        return connect(transport, helloTimeout, ChannelWatch.DEFAULTS);
    }

    /** {@link #connect(AgentTransport, Duration)} with other deadlines (tests). */
    static AgentClient connect(AgentTransport transport, Duration helloTimeout, ChannelWatch watch) {
        AgentClient client = new AgentClient(AgentChannel.start(transport, watch));
        try {
            Message reply = client.channel.call("hello", new Message.Hello(Protocol.VERSION), helloTimeout);
            if (!(reply instanceof Message.HelloReply hr) || hr.version() != Protocol.VERSION) {
                throw new AgentException(ErrorCode.UNSUPPORTED_VERSION,
                        "agent " + client.name + " answered HELLO with " + reply + "; this host speaks version " + Protocol.VERSION);
            }
            client.hello = hr;
            log.debug("agent {} ready: {} on kernel {}", client.name, hr.agentVersion(), hr.kernelRelease());
            return client;
        } catch (RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /** The agent's {@code HELLO_REPLY} (version, agent version, kernel release). */
    public Message.HelloReply helloReply() {
        return hello;
    }

    /** The transport's name. */
    public String name() {
        return name;
    }

    /** True until {@link #close()} or the loss of the channel. */
    public boolean isOpen() {
        return channel.isOpen();
    }

    /**
     * Calls {@code listener} once, on a thread of its own, if the channel is lost rather than closed
     * by this host: the guest broke the protocol (a framing error, a window overrun, a flood), left
     * a frame incomplete, stopped reading, stopped answering the liveness probe, or the connection
     * ended. The exception's message says which; every pending and later call fails with it. If the
     * channel is already lost, the listener is called at once. Allowed at any time.
     */
    public void whenLost(java.util.function.Consumer<AgentDisconnectedException> listener) {
        channel.whenLost(listener);
    }

    /**
     * Tells the channel that the host has paused the guest's vCPUs on purpose ({@code true}: a
     * save, a user's pause) or let them run again ({@code false}): while paused, the channel's
     * deadlines and liveness probe do not run, so a paused guest with operations open is not given
     * up for not answering. Allowed at any time.
     */
    public void guestPaused(boolean paused) {
        channel.guestPaused(paused);
    }

    /** Measures one round trip: sends {@code PING}, waits for the matching {@code PONG}. */
    public Duration ping(Duration timeout) {
        long nonce = nextNonce.getAndIncrement();
        long start = System.nanoTime();
        Message reply = channel.call("ping", new Message.Ping(nonce), timeout);
        long elapsed = System.nanoTime() - start;
        if (!(reply instanceof Message.Pong pong) || pong.nonce() != nonce) {
            throw new AgentException(ErrorCode.BAD_FRAME, "ping " + nonce + " answered with " + reply);
        }
        return Duration.ofNanos(elapsed);
    }

    /**
     * Starts a process and waits (up to 30 s) until it runs.
     *
     * @throws AgentException {@code NOT_FOUND}, {@code PERMISSION} or {@code INVALID_ARGUMENT} if it cannot start
     */
    public ExecSession exec(ExecSpec spec) {
        return exec(spec, Duration.ofSeconds(30));
    }

    /**
     * Opens a tunnel for the next TCP connection a guest program makes to {@code 127.0.0.1:port}
     * (the agent listens there from now on); returns at once, see {@link Tunnel#awaitOpened}.
     */
    public Tunnel acceptTunnel(int port) {
        return Tunnel.accept(channel, port, Duration.ofSeconds(30));
    }

    /** Starts a process and waits up to {@code startTimeout} for {@code EXEC_STARTED}. */
    public ExecSession exec(ExecSpec spec, Duration startTimeout) {
        return ExecSession.start(channel, spec, startTimeout);
    }

    /**
     * Uploads {@code data} to the absolute {@code path} with permission bits {@code mode}, in
     * 64 KiB chunks paced by the agent's credit; returns once every byte is on disk. Without
     * {@code append} the file is replaced atomically.
     */
    public void writeFile(String path, int mode, boolean mkdirs, boolean append, InputStream data, Duration timeout) {
        FileTransfers.write(channel, path, mode, mkdirs, append, null, data, timeout);
    }

    /**
     * Like {@link #writeFile(String, int, boolean, boolean, InputStream, Duration)}, done as
     * {@code owner} (null: root): its permissions, and the file and directories it creates owned by it.
     */
    public void writeFile(String path, int mode, boolean mkdirs, boolean append, dev.basalt.api.GuestUser owner,
                          InputStream data, Duration timeout) {
        FileTransfers.write(channel, path, mode, mkdirs, append, owner, data, timeout);
    }

    /** Downloads the regular file at {@code path} into {@code sink}; returns its metadata. */
    public Message.StatResult readFile(String path, OutputStream sink, Duration timeout) {
        return FileTransfers.read(channel, path, sink, timeout);
    }

    /** Metadata of {@code path} itself (symlinks not followed). */
    public Message.StatResult stat(String path, Duration timeout) {
        return channel.call("stat " + path, new Message.Stat(path), timeout, Message.StatResult.class);
    }

    /** The entries of directory {@code path}, without {@code .} and {@code ..}. */
    public List<DirEntry> list(String path, Duration timeout) {
        ReplyHandler.ListHandler handler = new ReplyHandler.ListHandler("list " + path);
        channel.awaitReply(handler, new Message.ListDir(path), Deadline.in(timeout, "list " + path));
        return List.copyOf(handler.entries);
    }

    /** Creates directory {@code path} and missing parents (like {@code mkdir -p}). */
    public void mkdir(String path, int mode, Duration timeout) {
        mkdir(path, mode, null, timeout);
    }

    /** Like {@link #mkdir(String, int, Duration)}, done as {@code owner} (null: root). */
    public void mkdir(String path, int mode, dev.basalt.api.GuestUser owner, Duration timeout) {
        Message.Mkdir request = owner == null ? new Message.Mkdir(path, mode)
                : new Message.Mkdir(path, mode, true, owner.uid(), owner.gid());
        channel.call("mkdir " + path, request, timeout, Message.Ok.class);
    }

    /** Removes a file, symlink or empty directory; with {@code recursive} a whole tree. */
    public void remove(String path, boolean recursive, Duration timeout) {
        channel.call("remove " + path, new Message.Remove(path, recursive), timeout, Message.Ok.class);
    }

    /** Renames {@code from} to {@code to} ({@code rename(2)} semantics). */
    public void rename(String from, String to, Duration timeout) {
        channel.call("rename " + from + " -> " + to, new Message.Rename(from, to), timeout, Message.Ok.class);
    }

    /**
     * Gives a restored or forked VM its own identity ({@code IDENTITY}): the agent aborts every
     * other open stream (processes SIGKILLed, partial uploads removed, no terminal frames), sets
     * the hostname and the wall clock to {@code now}, and mixes {@code seed} into the kernel's
     * entropy pool and reseeds it; returns on its {@code OK}. Meant to be sent once, right
     * after connecting, to a VM that did not boot from scratch.
     *
     * <p>Because the agent sends nothing more for the aborted streams, on {@code OK} this client
     * fails every stream whose request went out before {@code IDENTITY} with
     * {@code AgentException(CANCELLED, "aborted by IDENTITY")} (blocked {@link ExecSession#next},
     * {@link ExecSession#collect}, file transfers and pending calls wake up at once); the same
     * happens on {@code ERROR IO}, which the agent sends only after it aborted them. Streams
     * opened after {@code IDENTITY} was written are not touched. On {@code INVALID_ARGUMENT} (a
     * hostname that is not 1–64 bytes of {@code [A-Za-z0-9-]}, {@code now} not after the epoch,
     * a seed outside 32–512 bytes) nothing has changed in the guest and no stream is failed.
     * On timeout the state of the other streams is unknown.
     *
     * @param hostname the guest's new hostname
     * @param now      the wall-clock time to set, sent as nanoseconds since the epoch
     * @param seed     32–512 random bytes (copied)
     * @throws AgentException {@code INVALID_ARGUMENT} for invalid values, {@code IO} if the guest
     *                        could not set the hostname, clock or RNG; {@link AgentTimeoutException},
     *                        {@link AgentDisconnectedException} as for every call
     * @throws IllegalArgumentException if {@code hostname} contains a NUL character or {@code now}
     *                        does not fit an i64 of nanoseconds
     */
    public void identity(String hostname, Instant now, byte[] seed, Duration timeout) {
        Objects.requireNonNull(hostname, "hostname");
        Objects.requireNonNull(now, "now");
        Objects.requireNonNull(seed, "seed");
        long timeNs;
        try {
            timeNs = Math.addExact(Math.multiplyExact(now.getEpochSecond(), 1_000_000_000L), now.getNano());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("now " + now + " does not fit in 64-bit nanoseconds since the epoch", e);
        }
        Message.Identity request = new Message.Identity(hostname, timeNs, seed);
        String operation = "identity " + hostname;
        IdentityHandler handler = new IdentityHandler(operation);
        Deadline deadline = Deadline.in(timeout, operation);
        int id = channel.open(handler);
        try {
            channel.send(id, request, deadline, () -> handler.others = channel.requestedStreams(id));
        } catch (AgentTimeoutException e) {
            channel.abandon(id); // never reached the agent
            throw e;
        }
        Message reply = handler.await(deadline, () -> channel.cancel(id));
        if (!(reply instanceof Message.Ok)) {
            throw new AgentException(ErrorCode.BAD_FRAME, operation + ": agent answered " + reply.type() + ", expected Ok");
        }
        log.debug("agent {}: identity {} set, {} other stream(s) aborted", name, hostname, handler.others.size());
    }

    /** Asks the agent to kill every process, sync and power the guest off; returns on its {@code OK}. */
    public void shutdown(Duration timeout) {
        channel.call("shutdown", new Message.Shutdown(), timeout, Message.Ok.class);
    }

    /**
     * Closes the channel. Every open stream fails with {@link AgentDisconnectedException}.
     * Idempotent; allowed at any time from any thread.
     */
    @Override
    public void close() {
        channel.close();
    }

    /**
     * {@code IDENTITY}: on {@code OK} (or {@code ERROR IO}, sent after the agent aborted the
     * other streams) fails the streams the agent aborted, on the reader thread, before the
     * caller wakes up; the agent sends no terminal frame for them.
     */
    private final class IdentityHandler extends ReplyHandler {
        volatile Map<Integer, StreamHandler> others = Map.of();

        IdentityHandler(String operation) {
            super(operation);
        }

        @Override
        public boolean onMessage(Message message) {
            if (message instanceof Message.Ok
                    || message instanceof Message.Error e && e.code() == ErrorCode.IO) {
                channel.failAborted(others, new AgentException(ErrorCode.CANCELLED, "aborted by IDENTITY"));
            }
            return super.onMessage(message);
        }
    }

}
