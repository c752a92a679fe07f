package dev.basalt.vmm.agent;

import dev.basalt.protocol.Decoded;
import dev.basalt.protocol.DirEntry;
import dev.basalt.protocol.ErrorCode;
import dev.basalt.protocol.Frame;
import dev.basalt.protocol.FrameCodec;
import dev.basalt.protocol.FrameDecoder;
import dev.basalt.protocol.FrameError;
import dev.basalt.protocol.Message;
import dev.basalt.protocol.Protocol;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host side of the agent channel: multiplexes pings, execs and file operations as
 * streams over one {@link AgentTransport} (protocol in {@code docs/protocol.md}).
 *
 * <p>One platform daemon thread ({@code agent-reader-<name>}) drains the channel and hands
 * each frame to its stream without ever blocking on a consumer; writes are serialized
 * by a lock. Every blocking method takes a timeout and throws {@link AgentTimeoutException}
 * when it expires (cancelling the stream); once the channel dies every pending and later
 * call throws {@link AgentDisconnectedException}. All methods are thread-safe and meant to
 * be called from virtual threads. Operations are allowed from {@link #connect} until
 * {@link #close()} or until the channel is lost.
 */
public final class AgentClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AgentClient.class);
    private static final int READ_BUFFER = 256 * 1024;
    private static final int WRITE_BUFFER = Protocol.HOST_CHUNK + 1024;
    private static final Duration CANCEL_WRITE_TIMEOUT = Duration.ofSeconds(1);

    private final AgentTransport transport;
    private final String name;
    private final ConcurrentHashMap<Integer, StreamHandler> streams = new ConcurrentHashMap<>();
    /** Registered streams whose first frame (the request) has not been written yet. */
    private final Set<Integer> unsent = ConcurrentHashMap.newKeySet();
    private final AtomicInteger nextStream = new AtomicInteger(1);
    private final AtomicLong nextNonce = new AtomicLong(1);
    private final ReentrantLock writeLock = new ReentrantLock();
    private final ByteBuffer writeBuffer = ByteBuffer.allocateDirect(WRITE_BUFFER);
    private final Thread reader;
    private volatile AgentDisconnectedException closedCause;
    private volatile Message.HelloReply hello;

    private AgentClient(AgentTransport transport) {
        this.transport = transport;
        this.name = transport.name();
        this.reader = Thread.ofPlatform().daemon().name("agent-reader-" + name).unstarted(this::readLoop);
    }

    /**
     * Starts a client on {@code transport} (taking ownership of it), sends {@code HELLO} and
     * checks that the agent speaks protocol {@value Protocol#VERSION}.
     *
     * @throws AgentException {@code UNSUPPORTED_VERSION} if the agent speaks another version,
     *                        {@link AgentTimeoutException} / {@link AgentDisconnectedException} otherwise
     */
    public static AgentClient connect(AgentTransport transport, Duration helloTimeout) {
        AgentClient client = new AgentClient(Objects.requireNonNull(transport, "transport"));
        client.reader.start();
        try {
            Message reply = client.call("hello", new Message.Hello(Protocol.VERSION), helloTimeout);
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
        return closedCause == null;
    }

    /** Measures one round trip: sends {@code PING}, waits for the matching {@code PONG}. */
    public Duration ping(Duration timeout) {
        long nonce = nextNonce.getAndIncrement();
        long start = System.nanoTime();
        Message reply = call("ping", new Message.Ping(nonce), timeout);
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

    /** Starts a process and waits up to {@code startTimeout} for {@code EXEC_STARTED}. */
    public ExecSession exec(ExecSpec spec, Duration startTimeout) {
        return ExecSession.start(this, spec, startTimeout);
    }

    /**
     * Uploads {@code data} to the absolute {@code path} with permission bits {@code mode}, in
     * 64 KiB chunks paced by the agent's credit; returns once every byte is on disk. Without
     * {@code append} the file is replaced atomically.
     */
    public void writeFile(String path, int mode, boolean mkdirs, boolean append, InputStream data, Duration timeout) {
        FileTransfers.write(this, path, mode, mkdirs, append, data, timeout);
    }

    /** Downloads the regular file at {@code path} into {@code sink}; returns its metadata. */
    public Message.StatResult readFile(String path, OutputStream sink, Duration timeout) {
        return FileTransfers.read(this, path, sink, timeout);
    }

    /** Metadata of {@code path} itself (symlinks not followed). */
    public Message.StatResult stat(String path, Duration timeout) {
        return call("stat " + path, new Message.Stat(path), timeout, Message.StatResult.class);
    }

    /** The entries of directory {@code path}, without {@code .} and {@code ..}. */
    public List<DirEntry> list(String path, Duration timeout) {
        ReplyHandler.ListHandler handler = new ReplyHandler.ListHandler("list " + path);
        awaitReply(handler, new Message.ListDir(path), Deadline.in(timeout, "list " + path));
        return List.copyOf(handler.entries);
    }

    /** Creates directory {@code path} and missing parents (like {@code mkdir -p}). */
    public void mkdir(String path, int mode, Duration timeout) {
        call("mkdir " + path, new Message.Mkdir(path, mode), timeout, Message.Ok.class);
    }

    /** Removes a file, symlink or empty directory; with {@code recursive} a whole tree. */
    public void remove(String path, boolean recursive, Duration timeout) {
        call("remove " + path, new Message.Remove(path, recursive), timeout, Message.Ok.class);
    }

    /** Renames {@code from} to {@code to} ({@code rename(2)} semantics). */
    public void rename(String from, String to, Duration timeout) {
        call("rename " + from + " -> " + to, new Message.Rename(from, to), timeout, Message.Ok.class);
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
        int id = open(handler);
        try {
            send(id, request, deadline, () -> handler.others = requestedStreams(id));
        } catch (AgentTimeoutException e) {
            abandon(id); // never reached the agent
            throw e;
        }
        Message reply = handler.await(deadline, () -> cancel(id));
        if (!(reply instanceof Message.Ok)) {
            throw new AgentException(ErrorCode.BAD_FRAME, operation + ": agent answered " + reply.type() + ", expected Ok");
        }
        log.debug("agent {}: identity {} set, {} other stream(s) aborted", name, hostname, handler.others.size());
    }

    /** Asks the agent to kill every process, sync and power the guest off; returns on its {@code OK}. */
    public void shutdown(Duration timeout) {
        call("shutdown", new Message.Shutdown(), timeout, Message.Ok.class);
    }

    /**
     * Closes the channel. Every open stream fails with {@link AgentDisconnectedException}.
     * Idempotent; allowed at any time from any thread.
     */
    @Override
    public void close() {
        disconnect(new AgentDisconnectedException("agent client " + name + " was closed", null));
        if (Thread.currentThread() != reader) {
            try {
                reader.join(TimeUnit.SECONDS.toMillis(2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---- internals shared with ExecSession and FileTransfers ----

    /** One request, one terminal reply. */
    Message call(String operation, Message request, Duration timeout) {
        return awaitReply(new ReplyHandler(operation), request, Deadline.in(timeout, operation));
    }

    /** One request, one terminal reply of type {@code expected}. */
    <T extends Message> T call(String operation, Message request, Duration timeout, Class<T> expected) {
        Message reply = call(operation, request, timeout);
        if (!expected.isInstance(reply)) {
            throw new AgentException(ErrorCode.BAD_FRAME, operation + ": agent answered " + reply.type()
                    + ", expected " + expected.getSimpleName());
        }
        return expected.cast(reply);
    }

    private Message awaitReply(ReplyHandler handler, Message request, Deadline deadline) {
        int id = open(handler);
        try {
            send(id, request, deadline);
        } catch (AgentTimeoutException e) {
            streams.remove(id, handler); // never reached the agent
            unsent.remove(id);
            throw e;
        }
        return handler.await(deadline, () -> cancel(id));
    }

    /** Registers {@code handler} on a fresh stream id (never 0, never one still open). */
    int open(StreamHandler handler) {
        return open(id -> handler);
    }

    /** Registers the handler {@code factory} makes for a fresh stream id, and returns the id. */
    int open(IntFunction<? extends StreamHandler> factory) {
        AgentDisconnectedException cause = closedCause;
        if (cause != null) {
            throw disconnected(cause);
        }
        while (true) {
            int id = nextStream.getAndIncrement() & Integer.MAX_VALUE;
            if (id == 0 || streams.containsKey(id)) {
                continue;
            }
            unsent.add(id); // before it becomes visible in streams: see requestedStreams()
            if (streams.putIfAbsent(id, factory.apply(id)) == null) {
                cause = closedCause;
                if (cause != null) { // lost a race with disconnect()
                    streams.remove(id);
                    unsent.remove(id);
                    throw disconnected(cause);
                }
                return id;
            }
            unsent.remove(id);
        }
    }

    /** Forgets a stream whose request never went out. */
    void abandon(int streamId) {
        streams.remove(streamId);
        unsent.remove(streamId);
    }

    /** Sends one frame, waiting for the write lock until the deadline. */
    void send(int streamId, Message message, Deadline deadline) {
        send(streamId, message, deadline, null);
    }

    /**
     * Sends one frame; {@code beforeWrite} (if not null) runs under the write lock just before
     * the frame is written, when no other frame can slip in between.
     */
    private void send(int streamId, Message message, Deadline deadline, Runnable beforeWrite) {
        AgentDisconnectedException cause = closedCause;
        if (cause != null) {
            throw disconnected(cause);
        }
        try {
            if (!writeLock.tryLock(Math.max(0, deadline.remainingNanos()), TimeUnit.NANOSECONDS)) {
                throw deadline.timeoutException();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AgentException(null, deadline.operation() + " interrupted while sending", e);
        }
        try {
            Frame frame = new Frame(streamId, message);
            ByteBuffer buf = writeBuffer;
            int size = 9 + FrameCodec.payloadSize(message);
            if (size > buf.capacity()) {
                buf = ByteBuffer.allocate(size);
            }
            buf.clear();
            FrameCodec.encode(frame, buf);
            buf.flip();
            if (beforeWrite != null) {
                beforeWrite.run();
            }
            transport.write(buf);
            unsent.remove(streamId);
        } catch (IOException e) {
            AgentDisconnectedException d = new AgentDisconnectedException(
                    "write to agent " + name + " failed: " + e.getMessage(), e);
            disconnect(d);
            throw disconnected(closedCause);
        } finally {
            writeLock.unlock();
        }
    }

    /** Best effort {@code CANCEL}; the stream stays registered until the agent ends it. */
    void cancel(int streamId) {
        if (closedCause != null || !streams.containsKey(streamId)) {
            return;
        }
        try {
            send(streamId, new Message.Cancel(), Deadline.in(CANCEL_WRITE_TIMEOUT, "cancel stream " + streamId));
        } catch (AgentException e) {
            log.debug("could not cancel stream {} on {}: {}", streamId, name, e.getMessage());
        }
    }

    /** Returns {@code increment} bytes of receive credit; failures surface through the stream itself. */
    void returnCredit(int streamId, int increment) {
        if (closedCause != null || !streams.containsKey(streamId)) {
            return;
        }
        try {
            send(streamId, new Message.Window(increment), Deadline.in(Duration.ofSeconds(30), "window on stream " + streamId));
        } catch (AgentException e) {
            log.debug("could not return credit on stream {} of {}: {}", streamId, name, e.getMessage());
        }
    }

    /**
     * The open streams, other than {@code except}, whose request has already been written. Runs
     * under the write lock, so these are exactly the streams the agent has open (or is about
     * to end) when it reads the next frame.
     */
    private Map<Integer, StreamHandler> requestedStreams(int except) {
        Map<Integer, StreamHandler> out = new HashMap<>();
        streams.forEach((id, h) -> {
            if (id != except && !unsent.contains(id)) {
                out.put(id, h);
            }
        });
        return out;
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
                others.forEach((id, h) -> {
                    if (streams.remove(id, h)) {
                        try {
                            h.onFailure(new AgentException(ErrorCode.CANCELLED, "aborted by IDENTITY"));
                        } catch (RuntimeException ex) {
                            log.warn("handler of stream {} on {} failed on IDENTITY", id, name, ex);
                        }
                    }
                });
            }
            return super.onMessage(message);
        }
    }

    private static AgentDisconnectedException disconnected(AgentDisconnectedException cause) {
        return new AgentDisconnectedException(cause.getMessage(), cause.getCause());
    }

    // ---- reader thread ----

    private void readLoop() {
        FrameDecoder decoder = new FrameDecoder();
        ByteBuffer buf = ByteBuffer.allocateDirect(READ_BUFFER);
        AgentDisconnectedException cause;
        try {
            while (true) {
                buf.clear();
                int n = transport.read(buf);
                if (n < 0) {
                    cause = new AgentDisconnectedException("agent " + name + " closed the channel", null);
                    break;
                }
                buf.flip();
                decoder.feed(buf, this::dispatch);
            }
        } catch (IOException | RuntimeException e) {
            cause = closedCause != null ? closedCause
                    : new AgentDisconnectedException("reading from agent " + name + " failed: " + e, e);
        }
        disconnect(cause);
    }

    private void dispatch(Decoded decoded) {
        switch (decoded) {
            case Frame f -> {
                StreamHandler h = streams.get(f.streamId());
                if (h == null) {
                    log.trace("dropping {} for a stream that is not open", f);
                    return;
                }
                boolean ended;
                try {
                    ended = h.onMessage(f.message());
                } catch (RuntimeException e) {
                    log.warn("handler of stream {} on {} failed on {}", f.streamId(), name, f.message().type(), e);
                    ended = true;
                }
                if (ended) {
                    streams.remove(f.streamId(), h);
                }
            }
            case FrameError e -> {
                log.warn("agent {} sent a bad frame on stream {}: {} {}", name, e.streamId(), e.code(), e.detail());
                StreamHandler h = streams.remove(e.streamId());
                if (h != null) {
                    h.onFailure(new AgentException(e.code(), "agent " + name + " sent a malformed frame: " + e.detail()));
                    Thread.ofVirtual().start(() -> cancel(e.streamId()));
                }
            }
        }
    }

    private void disconnect(AgentDisconnectedException cause) {
        synchronized (this) {
            if (closedCause != null) {
                return;
            }
            closedCause = cause;
        }
        try {
            transport.close();
        } catch (IOException e) {
            log.debug("closing transport {} failed", name, e);
        }
        log.debug("agent channel {} down: {}", name, cause.getMessage());
        for (Integer id : List.copyOf(streams.keySet())) {
            StreamHandler h = streams.remove(id);
            if (h != null) {
                h.onFailure(disconnected(cause));
            }
        }
    }
}
