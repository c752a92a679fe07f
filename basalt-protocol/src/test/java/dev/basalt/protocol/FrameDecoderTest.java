package dev.basalt.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FrameDecoderTest {

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static List<Frame> sampleFrames() {
        return List.of(
                new Frame(1, new Message.Hello(1)),
                new Frame(2, new Message.Exec(List.of("sh", "-c", "echo é"), List.of("A=1"), "/tmp", 10,
                        Set.of(ExecFlag.STDIN, ExecFlag.PTY, ExecFlag.USER), 24, 80, 1000, 1000)),
                new Frame(3, new Message.Stdout(new byte[70_000])),
                new Frame(4, new Message.DirEntries(List.of(new DirEntry("x", FileType.FILE, 0644, 1, 2)))),
                new Frame(5, new Message.Exit(ExitKind.SIGNALED, 9)));
    }

    @Test
    void byteAtATimeAndRandomSplitsDecodeTheSameFrames() {
        List<Frame> frames = sampleFrames();
        byte[] all = concat(frames.stream().map(FrameCodec::encode).toArray(byte[][]::new));

        FrameDecoder oneByOne = new FrameDecoder();
        List<Decoded> out = new ArrayList<>();
        for (byte b : all) {
            oneByOne.feed(ByteBuffer.wrap(new byte[] {b}), out::add);
        }
        assertThat(out).containsExactlyElementsOf(frames);
        assertThat(oneByOne.isIdle()).isTrue();

        Random random = new Random(42);
        for (int round = 0; round < 50; round++) {
            FrameDecoder d = new FrameDecoder();
            List<Decoded> got = new ArrayList<>();
            int pos = 0;
            while (pos < all.length) {
                int n = Math.min(all.length - pos, 1 + random.nextInt(40_000));
                d.feed(ByteBuffer.wrap(all, pos, n), got::add);
                pos += n;
            }
            assertThat(got).containsExactlyElementsOf(frames);
        }
    }

    @Test
    void oversizedFrameOfFiveMibIsDiscardedStreamingAndTheNextFrameDecodes() {
        FrameDecoder d = new FrameDecoder();
        List<Decoded> out = new ArrayList<>();
        int payload = 5 * 1024 * 1024;
        ByteBuffer header = ByteBuffer.allocate(9).putInt(payload + 5).putInt(77).put((byte) 0x21).flip();
        d.feed(header, out::add);
        assertThat(out).singleElement().isEqualTo(new FrameError(77, ErrorCode.FRAME_TOO_LARGE,
                ((FrameError) out.getFirst()).detail()));
        byte[] chunk = new byte[64 * 1024];
        new Random(1).nextBytes(chunk);
        for (int sent = 0; sent < payload; sent += chunk.length) {
            d.feed(ByteBuffer.wrap(chunk, 0, Math.min(chunk.length, payload - sent)), out::add);
        }
        assertThat(out).hasSize(1);
        Frame next = new Frame(78, new Message.Ping(5));
        d.feed(ByteBuffer.wrap(FrameCodec.encode(next)), out::add);
        assertThat(out).hasSize(2).last().isEqualTo(next);
    }

    @Test
    void maximalFrameIsAcceptedAndOneByteMoreIsRejected() {
        Frame max = new Frame(9, new Message.FileData(new byte[Protocol.MAX_PAYLOAD - 4]));
        byte[] bytes = FrameCodec.encode(max);
        assertThat(bytes).hasSize(Protocol.MAX_FRAME_BYTES);
        assertThat(new FrameDecoder().feed(bytes)).containsExactly(max);

        ByteBuffer tooBig = ByteBuffer.allocate(Protocol.MAX_FRAME_BYTES + 1)
                .putInt(Protocol.MAX_FRAME_LENGTH + 1).putInt(9).put((byte) 0x21).putInt(Protocol.MAX_PAYLOAD - 3);
        List<Decoded> out = new FrameDecoder().feed(tooBig.array());
        assertThat(out).singleElement().extracting(x -> ((FrameError) x).code()).isEqualTo(ErrorCode.FRAME_TOO_LARGE);
    }

    @Test
    void shortFrameIsReportedOnStreamZeroAndSkipped() {
        byte[] bytes = concat(new byte[] {0, 0, 0, 2, 9, 9}, FrameCodec.encode(new Frame(3, new Message.Ok())));
        List<Decoded> out = new FrameDecoder().feed(bytes);
        assertThat(out).hasSize(2);
        assertThat(out.get(0)).isInstanceOfSatisfying(FrameError.class, e -> {
            assertThat(e.streamId()).isZero();
            assertThat(e.code()).isEqualTo(ErrorCode.BAD_FRAME);
        });
        assertThat(out.get(1)).isEqualTo(new Frame(3, new Message.Ok()));
    }

    @Test
    void randomGarbageOnlyEverYieldsFramesOrErrors() {
        Random random = new Random(7);
        for (int round = 0; round < 2_000; round++) {
            FrameDecoder d = new FrameDecoder();
            byte[] garbage = new byte[random.nextInt(300)];
            random.nextBytes(garbage);
            if (garbage.length >= 9 && random.nextBoolean()) {
                // keep lengths small so payload parsing is exercised, and types plausible
                ByteBuffer.wrap(garbage).putInt(5 + random.nextInt(garbage.length - 8));
                garbage[8] = (byte) MessageType.values()[random.nextInt(MessageType.values().length)].code();
            }
            int pos = 0;
            while (pos < garbage.length) {
                int n = Math.min(garbage.length - pos, 1 + random.nextInt(20));
                d.feed(ByteBuffer.wrap(garbage, pos, n), x -> assertThat(x).isNotNull());
                pos += n;
            }
        }
    }

    @Test
    void everyTruncationOfEveryValidFrameIsBadFrameNotAnException() {
        for (Frame f : sampleFrames()) {
            byte[] bytes = FrameCodec.encode(f);
            for (int cut = 9; cut < Math.min(bytes.length, 200); cut++) {
                ByteBuffer b = ByteBuffer.allocate(cut).put(bytes, 0, cut);
                b.putInt(0, cut - 4);
                List<Decoded> out = new FrameDecoder().feed(b.array());
                assertThat(out).as("cut at %d of %s", cut, f).singleElement().isInstanceOf(FrameError.class);
            }
        }
    }
}
