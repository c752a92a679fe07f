package dev.basalt.vmm.agent;

import dev.basalt.protocol.Decoded;
import dev.basalt.protocol.ErrorCode;
import dev.basalt.protocol.Frame;
import dev.basalt.protocol.FrameCodec;
import dev.basalt.protocol.FrameDecoder;
import dev.basalt.protocol.FrameError;
import dev.basalt.protocol.Message;
import dev.basalt.protocol.Protocol;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The multiplexed channel to one guest agent: many streams (calls, execs, file transfers) as
 * frames over one {@link AgentTransport} (protocol in {@code docs/protocol.md}). The operations
 * themselves live above it ({@link AgentClient}, {@link ExecSession}, {@link FileTransfers}).
 *
 * <p>One platform daemon thread ({@code agent-reader-<name>}) drains the channel and hands each
 * frame to its stream's {@link StreamHandler} without ever blocking on a consumer; writes are
 * serialized by a lock. Once the channel dies every open stream fails, and every later call throws
 * {@link AgentDisconnectedException}. All methods are thread-safe. Streams may be opened from
 * {@link #start} until {@link #close()} or the loss of the channel.
 *
 * <p>The guest's end of the channel is within reach of guest root, so nothing the guest sends is
 * trusted to keep the channel usable: a framing error (a length under 5 or over the cap), a flood
 * of malformed or unsolicited frames, more data than a stream's window, a frame left incomplete, a
 * guest that stops reading, or an agent that stops answering (see {@link ChannelWatch}) each end the
 * channel at once with the reason — every waiting call fails with it and {@link #whenLost} listeners
 * hear it — instead of leaving calls to hang until their own timeouts. A malformed frame whose length
 * is sound fails only its stream. Warnings the guest causes are rate-limited ({@link GuestWarnings}).
 * The transport's name is the sandbox's id; every log line names it.
 */
final class AgentChannel implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AgentChannel.class);
    private static final int READ_BUFFER = 256 * 1024;
    private static final int WRITE_BUFFER = Protocol.HOST_CHUNK + 1024;
    private static final Duration CANCEL_WRITE_TIMEOUT = Duration.ofSeconds(1);

    private final AgentTransport transport;
    private final String name;
    private final ConcurrentHashMap<Integer, StreamHandler> streams = new ConcurrentHashMap<>();
    /** Registered streams whose first frame (the request) has not been written yet. */
    private final Set<Integer> unsent = ConcurrentHashMap.newKeySet();
    /**
     * Stream ids start at a random point: if the agent missed the hang-up of a previous connection
     * (a host that reconnects before the guest noticed), streams it still holds from that one are
     * unlikely to share an id with the new connection's.
     */
    private final AtomicInteger nextStream = new AtomicInteger(1 + java.util.concurrent.ThreadLocalRandom.current().nextInt(1 << 30));
    private final ReentrantLock writeLock = new ReentrantLock();
    private final ByteBuffer writeBuffer = ByteBuffer.allocateDirect(WRITE_BUFFER);
    private final Thread reader;
    private final ChannelWatch watch;
    private final ChannelWatch.State health = new ChannelWatch.State();
    private final GuestWarnings warnings;
    private final List<Consumer<AgentDisconnectedException>> lostListeners = new CopyOnWriteArrayList<>();
    private final AtomicLong probeNonce = new AtomicLong(1L << 62);
    private volatile ScheduledFuture<?> watching;
    private volatile AgentDisconnectedException closedCause;
    /** True when the channel failed rather than being closed by this host. */
    private volatile boolean lost;
    /** Frames (and frame errors) decoded so far; reader thread only. */
    private long decoded;

    private AgentChannel(AgentTransport transport, ChannelWatch watch) {
        this.transport = transport;
        this.name = transport.name();
        this.watch = watch;
        this.warnings = new GuestWarnings(log, name);
        this.reader = Thread.ofPlatform().daemon().name("agent-reader-" + name).unstarted(this::readLoop);
    }

    /** Takes ownership of {@code transport} and starts reading it, with the default {@link ChannelWatch}. */
    static AgentChannel start(AgentTransport transport) {
        return start(transport, ChannelWatch.DEFAULTS);
    }

    /** Takes ownership of {@code transport} and starts reading it, held to {@code watch}'s deadlines. */
    static AgentChannel start(AgentTransport transport, ChannelWatch watch) {
        AgentChannel channel = new AgentChannel(Objects.requireNonNull(transport, "transport"),
                Objects.requireNonNull(watch, "watch"));
        channel.reader.start();
        channel.watching = ChannelWatch.every(channel::checkHealth);
        if (channel.closedCause != null) {
            channel.watching.cancel(false);
        }
        return channel;
    }

    /**
     * Calls {@code listener} (on a thread of its own) once if the channel is lost — the guest broke
     * the protocol, stopped reading or answering, or the connection ended — but not when this host
     * closes it. Registered after the loss, it is called at once. Allowed at any time.
     */
    void whenLost(Consumer<AgentDisconnectedException> listener) {
        Objects.requireNonNull(listener, "listener");
        synchronized (this) {
            if (closedCause == null) {
                lostListeners.add(listener);
                return;
            }
        }
        if (lost) {
            AgentDisconnectedException cause = closedCause;
            Thread.ofVirtual().name("agent-lost-" + name).start(() -> listener.accept(cause));
        }
    }

    /** The host paused or resumed the guest's vCPUs: see {@link ChannelWatch#guestPaused}. */
    void guestPaused(boolean paused) {
        ChannelWatch.guestPaused(health, paused);
    }

    /**
     * The guest broke the protocol in a way that leaves the channel unusable (called by stream
     * handlers, e.g. on a window overrun): the channel is given up with {@code what} as the reason.
     */
    void violation(String what) {
        fail("the guest broke the agent protocol: " + what);
    }

    /** The transport's name. */
    String name() {
        return name;
    }

    /** True until {@link #close()} or the loss of the channel. */
    boolean isOpen() {
        return closedCause == null;
    }

    /**
     * Closes the channel. Every open stream fails with {@link AgentDisconnectedException}.
     * Idempotent; allowed at any time from any thread.
     */
    @Override
    public void close() {
        disconnect(new AgentDisconnectedException("sandbox " + name + ": the agent channel was closed", null), false);
        if (Thread.currentThread() != reader) {
            try {
                reader.join(TimeUnit.SECONDS.toMillis(2));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

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

    Message awaitReply(ReplyHandler handler, Message request, Deadline deadline) {
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
    void send(int streamId, Message message, Deadline deadline, Runnable beforeWrite) {
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
            health.writeStartedAt = System.nanoTime();
            try {
                transport.write(buf);
            } finally {
                health.writeStartedAt = 0;
            }
            unsent.remove(streamId);
        } catch (IOException e) {
            AgentDisconnectedException d = new AgentDisconnectedException(
                    "sandbox " + name + ": writing to the agent channel failed: " + e.getMessage(), e);
            disconnect(d, true);
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
            log.debug("sandbox {}: could not cancel stream {}: {}", name, streamId, e.getMessage());
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
            log.debug("sandbox {}: could not return credit on stream {}: {}", name, streamId, e.getMessage());
        }
    }

    /**
     * The open streams, other than {@code except}, whose request has already been written. Runs
     * under the write lock, so these are exactly the streams the agent has open (or is about
     * to end) when it reads the next frame.
     */
    Map<Integer, StreamHandler> requestedStreams(int except) {
        Map<Integer, StreamHandler> out = new HashMap<>();
        streams.forEach((id, h) -> {
            if (id != except && !unsent.contains(id)) {
                out.put(id, h);
            }
        });
        return out;
    }

    /**
     * Fails the streams in {@code aborted} that are still open, on the calling thread (the reader,
     * when a handler calls it), because the agent ended them without a terminal frame.
     */
    void failAborted(Map<Integer, StreamHandler> aborted, AgentException why) {
        aborted.forEach((id, h) -> {
            if (streams.remove(id, h)) {
                try {
                    h.onFailure(why);
                } catch (RuntimeException ex) {
                    warnings.warn("the handler of stream {} failed on {}: {}", id, why.getMessage(), ex.toString());
                }
            }
        });
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
                    cause = new AgentDisconnectedException("sandbox " + name + ": the agent closed its channel", null);
                    break;
                }
                buf.flip();
                long before = decoded;
                decoder.feed(buf, this::dispatch);
                long now = System.nanoTime();
                health.lastReadAt = now;
                if (decoder.isIdle()) {
                    health.frameStartedAt = 0;
                } else if (decoded != before || health.frameStartedAt == 0) {
                    health.frameStartedAt = now;   // the incomplete frame began in this read
                }
            }
        } catch (IOException | RuntimeException e) {
            cause = closedCause != null ? closedCause
                    : new AgentDisconnectedException("sandbox " + name + ": reading the agent channel failed: " + e, e);
        }
        disconnect(cause, true);
    }

    private void dispatch(Decoded decoded) {
        this.decoded++;
        if (closedCause != null) {
            return;   // given up on: what follows is not trusted
        }
        switch (decoded) {
            case Frame f -> {
                StreamHandler h = streams.get(f.streamId());
                if (h == null) {
                    log.trace("sandbox {}: dropping {} for a stream that is not open", name, f);
                    if (health.junk(watch.junkLimit())) {
                        violation("more than " + watch.junkLimit() + " frames for streams that are not open within "
                                + ChannelWatch.JUNK_WINDOW.toSeconds() + " s (a flood)");
                    }
                    return;
                }
                boolean ended;
                try {
                    ended = h.onMessage(f.message());
                } catch (RuntimeException e) {
                    warnings.warn("the handler of stream {} failed on {}: {}", f.streamId(), f.message().type(), e.toString());
                    ended = true;
                }
                if (ended) {
                    streams.remove(f.streamId(), h);
                }
            }
            case FrameError e -> {
                if (e.streamId() == 0 || e.code() == ErrorCode.FRAME_TOO_LARGE) {
                    // the agent never sends these: the byte stream is no longer made of its frames
                    violation("a frame the agent never sends (" + e.code() + ": " + e.detail() + ")");
                    return;
                }
                warnings.warn("malformed frame on stream {}: {} {}", e.streamId(), e.code(), e.detail());
                StreamHandler h = streams.remove(e.streamId());
                if (h != null) {
                    h.onFailure(new AgentException(e.code(), "sandbox " + name + ": the agent sent a malformed frame: "
                            + e.detail()));
                    Thread.ofVirtual().start(() -> cancel(e.streamId()));
                }
                if (health.junk(watch.junkLimit())) {
                    violation("more than " + watch.junkLimit() + " malformed frames within "
                            + ChannelWatch.JUNK_WINDOW.toSeconds() + " s (a flood)");
                }
            }
        }
    }

    // ---- watch ----

    /** The timer's check: deadlines, then the liveness probe. Never blocks. */
    private void checkHealth() {
        if (closedCause != null) {
            return;
        }
        long now = System.nanoTime();
        boolean waiting = !streams.isEmpty();
        String broken = watch.check(health, waiting, now);
        if (broken != null) {
            fail(broken);
        } else if (watch.probeDue(health, waiting, now)) {
            health.probing = true;
            Thread.ofVirtual().name("agent-probe-" + name).start(this::probe);
        }
    }

    /** Pings the agent; no answer within the probe timeout gives the channel up. */
    private void probe() {
        int pauses = health.pauses;
        try {
            call("liveness probe", new Message.Ping(probeNonce.getAndIncrement()), watch.probeTimeout());
        } catch (AgentTimeoutException e) {
            if (health.guestPaused || health.pauses != pauses) {
                return;   // the host paused the guest meanwhile: its silence proves nothing
            }
            fail("the guest agent did not answer a PING within " + watch.probeTimeout().toMillis()
                    + " ms while operations waited for it");
        } catch (AgentException e) {
            log.debug("sandbox {}: liveness probe: {}", name, e.getMessage());
        } finally {
            health.probing = false;
        }
    }

    /** Gives the channel up because of the guest: everything waiting fails with {@code reason}. */
    private void fail(String reason) {
        if (closedCause == null) {
            log.warn("sandbox {}: giving up its agent channel: {}", name, reason);
        }
        disconnect(new AgentDisconnectedException("sandbox " + name + ": the agent channel failed: " + reason, null),
                true);
    }

    private void disconnect(AgentDisconnectedException cause, boolean byGuest) {
        List<Consumer<AgentDisconnectedException>> listeners;
        synchronized (this) {
            if (closedCause != null) {
                return;
            }
            closedCause = cause;
            lost = byGuest;
            listeners = byGuest ? List.copyOf(lostListeners) : List.of();
            lostListeners.clear();
        }
        ScheduledFuture<?> w = watching;
        if (w != null) {
            w.cancel(false);
        }
        try {
            transport.close();
        } catch (IOException e) {
            log.debug("sandbox {}: closing the agent transport failed", name, e);
        }
        log.debug("sandbox {}: agent channel down: {}", name, cause.getMessage());
        for (Integer id : List.copyOf(streams.keySet())) {
            StreamHandler h = streams.remove(id);
            if (h != null) {
                h.onFailure(disconnected(cause));
            }
        }
        for (Consumer<AgentDisconnectedException> l : listeners) {
            Thread.ofVirtual().name("agent-lost-" + name).start(() -> l.accept(cause));
        }
    }
}
