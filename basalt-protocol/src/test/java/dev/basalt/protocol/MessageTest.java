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
        assertThatThrownBy(() -> new Message.Exec(List.of("a\0"), List.of(), "", 0, Set.of(), 0, 0))
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
