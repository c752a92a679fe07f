package dev.basalt.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Strings are decoded leniently (invalid UTF-8 becomes U+FFFD, three bytes when encoded
 * again), yet every decoded message must stay encodable within the frame cap. Found while
 * fuzzing the inner decoder: such frames made a record constructor or {@code encode} throw
 * {@link IllegalArgumentException}, which {@link FrameCodec#decode} hid as {@code BAD_FRAME}.
 */
class LenientUtf8Test {

    private static ByteBuffer errorPayload(int invalidBytes) {
        byte[] junk = new byte[invalidBytes];
        Arrays.fill(junk, (byte) 0xFF);
        return ByteBuffer.allocate(2 + 4 + invalidBytes).putShort((short) 14).putInt(invalidBytes).put(junk).flip();
    }

    /** DIR_ENTRIES of {@code count} entries whose names are {@code nameBytes} invalid bytes each. */
    private static ByteBuffer entriesPayload(int count, int nameBytes) {
        ByteBuffer b = ByteBuffer.allocate(4 + count * (4 + nameBytes + 1 + 4 + 8 + 8)).putInt(count);
        byte[] name = new byte[nameBytes];
        Arrays.fill(name, (byte) 0xC3); // a lead byte with no continuation: each one is invalid
        for (int i = 0; i < count; i++) {
            b.putInt(nameBytes).put(name).put((byte) 0).putInt(0644).putLong(1).putLong(2);
        }
        return b.flip();
    }

    @Test
    void oneStringThatWouldReencodeAboveTheCapIsBadFrame() {
        assertThatThrownBy(() -> FrameCodec.decodePayload(MessageType.ERROR, errorPayload(400_000)))
                .isInstanceOfSatisfying(MalformedFrameException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_FRAME))
                .hasMessageContaining("message").hasMessageContaining("invalid UTF-8");
    }

    @Test
    void manyStringsThatTogetherWouldReencodeAboveTheCapAreBadFrame() {
        ByteBuffer payload = entriesPayload(4_000, 200); // ~0.9 MiB on the wire, ~2.5 MiB encoded again
        assertThat(payload.remaining()).isLessThanOrEqualTo(Protocol.MAX_PAYLOAD);
        assertThatThrownBy(() -> FrameCodec.decodePayload(MessageType.DIR_ENTRIES, payload))
                .isInstanceOfSatisfying(MalformedFrameException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_FRAME))
                .hasMessageContaining("invalid UTF-8");
    }

    @Test
    void theDecoderReportsThemAsBadFrameNotAsADecoderFailure() {
        ByteBuffer p = errorPayload(400_000);
        byte[] frame = ByteBuffer.allocate(9 + p.remaining()).putInt(5 + p.remaining()).putInt(7)
                .put((byte) MessageType.ERROR.code()).put(p).array();
        List<Decoded> out = new FrameDecoder().feed(frame);
        assertThat(out).singleElement().isInstanceOfSatisfying(FrameError.class, e -> {
            assertThat(e.code()).isEqualTo(ErrorCode.BAD_FRAME);
            assertThat(e.detail()).contains("invalid UTF-8").doesNotContain("decoder failure");
        });
    }

    @Test
    void invalidUtf8WithinTheCapStillDecodesAndEncodes() {
        Message m = FrameCodec.decodePayload(MessageType.ERROR, errorPayload(300_000));
        assertThat(((Message.Error) m).message()).isEqualTo("\uFFFD".repeat(300_000));
        assertThat(FrameCodec.encode(new Frame(1, m))).hasSize(9 + 2 + 4 + 900_000);

        Message entries = FrameCodec.decodePayload(MessageType.DIR_ENTRIES, entriesPayload(1_000, 200));
        assertThat(((Message.DirEntries) entries).entries()).hasSize(1_000);
        assertThat(FrameCodec.payloadSize(entries)).isLessThanOrEqualTo(Protocol.MAX_PAYLOAD);
    }
}
