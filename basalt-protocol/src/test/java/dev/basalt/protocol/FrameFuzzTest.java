package dev.basalt.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Coverage-guided fuzzing of the frame decoder with Jazzer (docs/protocol.md, "Fuzzing").
 *
 * <p>The input is a byte stream as the host reads it from the agent. A reference splitter
 * cuts it into frames and decodes every payload with the <em>inner</em> decoder,
 * {@link FrameCodec#decodePayload}, below the catch of {@link FrameCodec#decode} that turns
 * any exception into {@code BAD_FRAME}: only {@link MalformedFrameException} may come out
 * of it, anything else fails the test. Then {@link FrameDecoder} must report exactly the
 * same frames and errors, whether the stream is fed whole or split at points derived from
 * the input, in heap, direct and read-only buffers. Every decoded message must encode, and
 * decoding that encoding must give the same message (stable round trip); when no string held
 * invalid UTF-8 (decoded as U+FFFD) the encoding must be the original bytes exactly.
 *
 * <p>Seeds are the frames of {@code protocol/vectors.txt}. {@code mvn verify} fuzzes for a
 * few seconds ({@code basalt.fuzz.duration}; {@code -Dbasalt.fuzz=false} only replays the
 * seeds and past findings); {@code bin/fuzz --seconds N} fuzzes longer. A failing input is
 * written to {@code src/test/resources/dev/basalt/protocol/FrameFuzzTestInputs/frames/} and
 * from then on replayed by every test run: commit it with the fix.
 */
class FrameFuzzTest {

    /** One thing a decoder reported: a message, or an error code. */
    record Outcome(int streamId, Message message, ErrorCode error) {
        static Outcome of(Decoded d) {
            return switch (d) {
                case Frame f -> new Outcome(f.streamId(), f.message(), null);
                case FrameError e -> new Outcome(e.streamId(), null, e.code());
            };
        }
    }

    /** What the reference splitter found: the outcomes, and whether the stream ended between frames. */
    record Reference(List<Outcome> outcomes, boolean idle) {
    }

    static Stream<byte[]> vectorFrames() throws IOException {
        return VectorsTest.vectors().stream().map(VectorsTest.Vector::bytes);
    }

    @MethodSource("vectorFrames")
    @FuzzTest(maxDuration = "10s")
    void frames(byte[] input) {
        Reference expected = reference(input);

        FrameDecoder whole = new FrameDecoder();
        List<Outcome> got = new ArrayList<>();
        whole.feed(ByteBuffer.wrap(input), d -> got.add(Outcome.of(d)));
        assertThat(got).as("fed whole").isEqualTo(expected.outcomes());
        assertThat(whole.isIdle()).as("idle after the whole input").isEqualTo(expected.idle());

        FrameDecoder split = new FrameDecoder();
        List<Outcome> gotSplit = new ArrayList<>();
        feedSplit(split, input, d -> gotSplit.add(Outcome.of(d)));
        assertThat(gotSplit).as("fed in pieces").isEqualTo(expected.outcomes());
        assertThat(split.isIdle()).as("idle after the pieces").isEqualTo(expected.idle());
    }

    /** Splits {@code in} the way docs/protocol.md describes, independently of FrameDecoder. */
    static Reference reference(byte[] in) {
        ByteBuffer b = ByteBuffer.wrap(in);
        List<Outcome> out = new ArrayList<>();
        while (b.hasRemaining()) {
            if (b.remaining() < 4) {
                return new Reference(out, false);
            }
            long length = Integer.toUnsignedLong(b.getInt());
            if (length < 5) {
                out.add(new Outcome(0, null, ErrorCode.BAD_FRAME));
                if (b.remaining() < length) {
                    return new Reference(out, false);
                }
                b.position(b.position() + (int) length);
                continue;
            }
            if (b.remaining() < 5) {
                return new Reference(out, false);
            }
            int streamId = b.getInt();
            int type = b.get() & 0xFF;
            long payloadLength = length - 5;
            if (length > Protocol.MAX_FRAME_LENGTH) {
                out.add(new Outcome(streamId, null, ErrorCode.FRAME_TOO_LARGE));
            }
            if (b.remaining() < payloadLength) {
                return new Reference(out, false);
            }
            int start = b.position() - 9;
            b.position(b.position() + (int) payloadLength);
            if (length <= Protocol.MAX_FRAME_LENGTH) {
                out.add(decodeInner(streamId, type, Arrays.copyOfRange(in, start, b.position())));
            }
        }
        return new Reference(out, true);
    }

    /** Decodes one complete frame with the inner decoder and checks its round trip. */
    private static Outcome decodeInner(int streamId, int typeCode, byte[] frame) {
        MessageType type = MessageType.fromCode(typeCode);
        if (type == null) {
            return new Outcome(streamId, null, ErrorCode.UNKNOWN_TYPE);
        }
        Message m;
        try {
            m = FrameCodec.decodePayload(type, ByteBuffer.wrap(frame, 9, frame.length - 9));
        } catch (MalformedFrameException e) {
            assertThat(e.code()).isIn(ErrorCode.BAD_FRAME, ErrorCode.INVALID_ARGUMENT);
            return new Outcome(streamId, null, e.code());
        }
        assertThat(m.type()).isEqualTo(type);
        Frame decoded = new Frame(streamId, m);
        byte[] encoded = FrameCodec.encode(decoded);
        Message again = FrameCodec.decodePayload(type, ByteBuffer.wrap(encoded, 9, encoded.length - 9));
        assertThat(again).as("decode(encode(m))").isEqualTo(m);
        assertThat(FrameCodec.encode(new Frame(streamId, again))).as("encoding is stable").isEqualTo(encoded);
        if (!CanonicalText.format(decoded).contains("\uFFFD")) {
            assertThat(encoded).as("valid UTF-8 re-encodes to the same bytes").isEqualTo(frame);
        }
        return new Outcome(streamId, m, null);
    }

    /** Feeds {@code in} in pieces of pseudo-random sizes (from the input's hash) and buffer kinds. */
    private static void feedSplit(FrameDecoder d, byte[] in, Consumer<Decoded> sink) {
        Random random = new Random(Arrays.hashCode(in));
        int pos = 0;
        while (pos < in.length) {
            int n = Math.min(in.length - pos, switch (random.nextInt(4)) {
                case 0 -> 1;
                case 1 -> 1 + random.nextInt(8);
                case 2 -> 1 + random.nextInt(64);
                default -> 1 + random.nextInt(4096);
            });
            ByteBuffer piece = switch (random.nextInt(3)) {
                case 0 -> ByteBuffer.wrap(in, pos, n); // a heap buffer not at offset 0
                case 1 -> ByteBuffer.allocateDirect(n).put(in, pos, n).flip();
                default -> ByteBuffer.wrap(in, pos, n).slice().asReadOnlyBuffer();
            };
            d.feed(piece, sink);
            assertThat(piece.hasRemaining()).as("feed consumes every byte").isFalse();
            pos += n;
        }
    }
}
