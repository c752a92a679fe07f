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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
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
    private final AtomicInteger nextStream = new AtomicInteger(1);
    private final ReentrantLock writeLock = new ReentrantLock();
    private final ByteBuffer writeBuffer = ByteBuffer.allocateDirect(WRITE_BUFFER);
    private final Thread reader;
    private volatile AgentDisconnectedException closedCause;

    private AgentChannel(AgentTransport transport) {
        this.transport = transport;
        this.name = transport.name();
        this.reader = Thread.ofPlatform().daemon().name("agent-reader-" + name).unstarted(this::readLoop);
    }

    /** Takes ownership of {@code transport} and starts reading it. */
    static AgentChannel start(AgentTransport transport) {
        AgentChannel channel = new AgentChannel(Objects.requireNonNull(transport, "transport"));
        channel.reader.start();
        return channel;
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
        disconnect(new AgentDisconnectedException("agent client " + name + " was closed", null));
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
                    log.warn("handler of stream {} on {} failed on {}", id, name, why.getMessage(), ex);
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
