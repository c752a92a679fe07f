package dev.basalt.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MessageTest {

    @Test
    void recordsRejectInvalidFields() {
        assertThatThrownBy(() -> new Message.Stat("/a\0b")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("NUL");
        assertThatThrownBy(() -> new Message.Stat(null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new Message.Window(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Message.Hello(1L << 32)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Message.Resize(-1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Message.FileData(new byte[Protocol.MAX_PAYLOAD]))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Message.Exec(List.of("a\0"), List.of(), "", 0, Set.of(), 0, 0, 0, 0))
                .hasMessageContaining("argv[0]");
    }

    @Test
    void dataIsCopiedInAndOut() {
        byte[] source = {1, 2, 3};
        Message.Stdout m = new Message.Stdout(source);
        source[0] = 9;
        assertThat(m.data().toArray()).containsExactly(1, 2, 3);
        m.data().toArray()[1] = 9;
        assertThat(m.data().toArray()).containsExactly(1, 2, 3);
        assertThat(m).isEqualTo(new Message.Stdout(new byte[] {1, 2, 3}));
        assertThat(m.data().asReadOnlyBuffer().isReadOnly()).isTrue();
    }

    @Test
    void encodeRejectsPayloadsAboveTheCap() {
        String half = "x".repeat(600_000);
        Message.Rename big = new Message.Rename("/" + half, "/" + half);
        assertThatThrownBy(() -> FrameCodec.encode(new Frame(1, big))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cap");
    }

    @Test
    void identityChecksOnlyTheWireRules() {
        assertThatThrownBy(() -> new Message.Identity("a\0b", 1, new byte[32]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("hostname");
        assertThatThrownBy(() -> new Message.Identity("vm", 1, (Bytes) null)).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new Message.Identity(null, 1, new byte[32])).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new Message.Identity("vm", 1, new byte[Protocol.MAX_PAYLOAD]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("seed");
        // the agent's semantic ranges (hostname charset, time > 0, seed 32-512) are not the codec's business
        Message.Identity loose = new Message.Identity("not a hostname!", -5, new byte[0]);
        Frame f = new Frame(7, loose);
        assertThat(new FrameDecoder().feed(FrameCodec.encode(f))).singleElement().isEqualTo(f);
        assertThat(loose.type()).isEqualTo(MessageType.IDENTITY);
        assertThat(MessageType.fromCode(0x31)).isEqualTo(MessageType.IDENTITY);
        byte[] seed = {1, 2, 3};
        Message.Identity m = new Message.Identity("vm", 1, seed);
        seed[0] = 9;
        assertThat(m.seed().toArray()).containsExactly(1, 2, 3);
    }

    @Test
    void typeOfEveryMessageMatchesItsCode() {
        assertThat(new Message.ListDir("/").type()).isEqualTo(MessageType.LIST);
        assertThat(MessageType.fromCode(0x8F)).isEqualTo(MessageType.ERROR);
        assertThat(MessageType.fromCode(0x7F)).isNull();
        assertThat(ErrorCode.fromCode(16)).isEqualTo(ErrorCode.RESOURCE_EXHAUSTED);
    }

    @Test
    void loneSurrogatesAndSupplementaryCharactersRoundTrip() {
        Frame f = new Frame(1, new Message.Stat("/a\uD800b\uD83D\uDE00c"));
        byte[] bytes = FrameCodec.encode(f);
        assertThat(bytes.length).isEqualTo(9 + FrameCodec.payloadSize(f.message()));
        assertThat(new FrameDecoder().feed(bytes)).singleElement()
                .isEqualTo(new Frame(1, new Message.Stat("/a?b\uD83D\uDE00c")));
    }
}
