package dev.basalt.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Incremental decoder of a byte stream of frames. Feed it bytes split anywhere; it emits
 * a {@link Frame} for each well-formed frame and a {@link FrameError} for each rejected
 * one, applying the protocol's robustness rules:
 * <ul>
 *   <li>{@code length} &lt; 5: {@code BAD_FRAME} on stream 0, the {@code length} bytes are skipped;</li>
 *   <li>{@code length} &gt; {@value Protocol#MAX_FRAME_LENGTH}: {@code FRAME_TOO_LARGE} on the frame's
 *       stream as soon as its stream id and type are read; the rest is counted down and
 *       discarded, never buffered;</li>
 *   <li>unknown type: {@code UNKNOWN_TYPE}; malformed payload: {@code BAD_FRAME}; unknown
 *       flag bits: {@code INVALID_ARGUMENT}.</li>
 * </ul>
 * The decoder never throws on input and stays in sync after every error. Memory is
 * bounded by one maximal payload. Not thread-safe: one reader feeds it.
 */
public final class FrameDecoder {
    private enum State { LENGTH, HEADER, PAYLOAD, SKIP }

    private final byte[] header = new byte[9];
    private int headerFill;
    private State state = State.LENGTH;
    private long length;
    private int streamId;
    private int type;
    private byte[] payload;
    private int payloadFill;
    private long skipRemaining;

    /** Feeds the remaining bytes of {@code in} (consuming all of them) and emits results to {@code sink}. */
    public void feed(ByteBuffer in, Consumer<? super Decoded> sink) {
        while (in.hasRemaining()) {
            switch (state) {
                case LENGTH -> {
                    if (fillHeader(in, 4)) {
                        length = ByteBuffer.wrap(header, 0, 4).getInt() & 0xFFFF_FFFFL;
                        if (length < 5) {
                            sink.accept(new FrameError(0, ErrorCode.BAD_FRAME,
                                    "frame length " + length + " is shorter than 5"));
                            startSkip(length);
                        } else {
                            state = State.HEADER;
                        }
                    }
                }
                case HEADER -> {
                    if (fillHeader(in, 9)) {
                        ByteBuffer h = ByteBuffer.wrap(header);
                        streamId = h.getInt(4);
                        type = h.get(8) & 0xFF;
                        long payloadLength = length - 5;
                        if (length > Protocol.MAX_FRAME_LENGTH) {
                            sink.accept(new FrameError(streamId, ErrorCode.FRAME_TOO_LARGE, "frame payload of "
                                    + payloadLength + " bytes exceeds the " + Protocol.MAX_PAYLOAD + "-byte cap"));
                            startSkip(payloadLength);
                        } else if (payloadLength == 0) {
                            emit(ByteBuffer.allocate(0), sink);
                        } else {
                            state = State.PAYLOAD;
                            payloadFill = 0;
                        }
                    }
                }
                case PAYLOAD -> readPayload(in, sink);
                case SKIP -> {
                    int n = (int) Math.min(in.remaining(), skipRemaining);
                    in.position(in.position() + n);
                    skipRemaining -= n;
                    if (skipRemaining == 0) {
                        reset();
                    }
                }
            }
        }
    }

    /** Convenience: feeds {@code bytes} and returns what was decoded. */
    public List<Decoded> feed(byte[] bytes) {
        List<Decoded> out = new ArrayList<>();
        feed(ByteBuffer.wrap(bytes), out::add);
        return out;
    }

    /** True when the decoder is between frames (no partial frame buffered or being skipped). */
    public boolean isIdle() {
        return state == State.LENGTH && headerFill == 0;
    }

    private void readPayload(ByteBuffer in, Consumer<? super Decoded> sink) {
        int payloadLength = (int) (length - 5);
        if (payloadFill == 0 && in.remaining() >= payloadLength) {
            // whole payload available: decode in place, no copy
            ByteBuffer slice = in.slice(in.position(), payloadLength);
            in.position(in.position() + payloadLength);
            emit(slice, sink);
            return;
        }
        if (payload == null || payload.length < payloadLength) {
            payload = new byte[Math.max(payloadLength, 4096)];
        }
        int n = Math.min(in.remaining(), payloadLength - payloadFill);
        in.get(payload, payloadFill, n);
        payloadFill += n;
        if (payloadFill == payloadLength) {
            emit(ByteBuffer.wrap(payload, 0, payloadLength), sink);
        }
    }

    private void emit(ByteBuffer payloadBytes, Consumer<? super Decoded> sink) {
        Decoded d = FrameCodec.decode(streamId, type, payloadBytes);
        reset();
        sink.accept(d);
    }

    private boolean fillHeader(ByteBuffer in, int upTo) {
        int n = Math.min(in.remaining(), upTo - headerFill);
        in.get(header, headerFill, n);
        headerFill += n;
        return headerFill == upTo;
    }

    private void startSkip(long n) {
        if (n == 0) {
            reset();
        } else {
            state = State.SKIP;
            skipRemaining = n;
        }
    }

    private void reset() {
        state = State.LENGTH;
        headerFill = 0;
        payloadFill = 0;
        if (payload != null && payload.length > 64 * 1024 + 64) {
            payload = null; // do not pin a large buffer between big frames
        }
    }
}
