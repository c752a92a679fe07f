package dev.basalt.vmm.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.protocol.ErrorCode;
import dev.basalt.protocol.Frame;
import dev.basalt.protocol.Message;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link AgentClient} against an in-test peer, for behaviour the real agent never shows. */
class AgentClientFakePeerTest {
    private static final Logger log = LoggerFactory.getLogger(AgentClientFakePeerTest.class);
    private static final Duration T = Duration.ofSeconds(10);

    @Test
    void wrongVersionIsRefusedAndTheClientClosed() throws Exception {
        try (FakeAgent fake = FakeAgent.listen((f, a) -> f.message() instanceof Message.Hello
                ? List.of(new Frame(f.streamId(), new Message.HelloReply(2, "future", "x"))) : null)) {
            assertThatThrownBy(() -> AgentClient.connect(fake.transport, T))
                    .isInstanceOfSatisfying(AgentException.class,
                            e -> assertThat(e.code()).contains(ErrorCode.UNSUPPORTED_VERSION));
        }
    }

    @Test
    void silentAgentTimesOutAndTheStreamIsCancelled() throws Exception {
        try (FakeAgent fake = FakeAgent.start((f, a) -> f.message() instanceof Message.Stat ? List.of() : null)) {
            assertThatThrownBy(() -> fake.client.stat("/x", Duration.ofMillis(100)))
                    .isInstanceOf(AgentTimeoutException.class).hasMessageContaining("stat /x");
            Thread.sleep(100);
            assertThat(fake.received).anySatisfy(d -> assertThat(d).isInstanceOfSatisfying(Frame.class,
                    f -> assertThat(f.message()).isInstanceOf(Message.Cancel.class)));
            fake.client.ping(T);
        }
    }

    @Test
    void malformedFrameFromTheAgentFailsOnlyThatStream() throws Exception {
        try (FakeAgent fake = FakeAgent.start((f, a) -> {
            if (f.message() instanceof Message.Stat) {
                // EXIT with kind 7: BAD_FRAME on that stream
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(14).putInt(10).putInt(f.streamId())
                        .put((byte) 0x93).put((byte) 7).putInt(0);
                try {
                    a.sendRaw(b.array());
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                return List.of();
            }
            return null;
        })) {
            assertThatThrownBy(() -> fake.client.stat("/x", T))
                    .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).contains(ErrorCode.BAD_FRAME));
            assertThat(fake.client.ping(T)).isPositive();
        }
    }

    @Test
    void identityFailsOnlyTheStreamsRequestedBeforeIt() throws Exception {
        int[] identityStream = {0};
        try (FakeAgent fake = FakeAgent.start((f, a) -> {
            if (f.message() instanceof Message.Identity) {
                identityStream[0] = f.streamId();
                return List.of(); // answered once the later STAT has arrived
            }
            if (f.message() instanceof Message.Stat st) {
                return st.path().equals("/late") ? List.of(new Frame(identityStream[0], new Message.Ok())) : List.of();
            }
            return null;
        }); ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<?> early = ex.submit(() -> fake.client.stat("/early", T));
            Thread.sleep(100);
            Future<?> identity = ex.submit(() -> {
                fake.client.identity("vm", java.time.Instant.now(), new byte[32], T);
                return null;
            });
            Thread.sleep(100);
            Future<?> late = ex.submit(() -> fake.client.stat("/late", Duration.ofMillis(500)));
            identity.get();
            assertThatThrownBy(early::get).cause().isInstanceOfSatisfying(AgentException.class,
                    e -> assertThat(e.code()).contains(ErrorCode.CANCELLED)).hasMessageContaining("aborted by IDENTITY");
            assertThatThrownBy(late::get).cause().isInstanceOf(AgentTimeoutException.class);
            Frame sent = fake.received.stream().filter(d -> d instanceof Frame f && f.message() instanceof Message.Identity)
                    .map(Frame.class::cast).findFirst().orElseThrow();
            Message.Identity m = (Message.Identity) sent.message();
            assertThat(m.hostname()).isEqualTo("vm");
            assertThat(m.seed().length()).isEqualTo(32);
        }
    }

    @Test
    void identityErrorsFailOtherStreamsOnlyForIo() throws Exception {
        try (FakeAgent fake = FakeAgent.start((f, a) -> {
            if (f.message() instanceof Message.Identity id) {
                ErrorCode code = id.hostname().equals("io") ? ErrorCode.IO : ErrorCode.INVALID_ARGUMENT;
                return List.of(new Frame(f.streamId(), new Message.Error(code, "no")));
            }
            return f.message() instanceof Message.Stat ? List.of() : null;
        }); ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<?> pending = ex.submit(() -> fake.client.stat("/x", T));
            Thread.sleep(100);
            assertThatThrownBy(() -> fake.client.identity("bad", java.time.Instant.now(), new byte[32], T))
                    .isInstanceOfSatisfying(AgentException.class,
                            e -> assertThat(e.code()).contains(ErrorCode.INVALID_ARGUMENT));
            Thread.sleep(50);
            assertThat(pending.isDone()).isFalse();
            assertThatThrownBy(() -> fake.client.identity("io", java.time.Instant.now(), new byte[32], T))
                    .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).contains(ErrorCode.IO));
            assertThatThrownBy(pending::get).cause().isInstanceOfSatisfying(AgentException.class,
                    e -> assertThat(e.code()).contains(ErrorCode.CANCELLED));
            fake.client.ping(T);
        }
    }

    @Test
    void hangUpFailsEveryPendingOperationPromptly() throws Exception {
        try (FakeAgent fake = FakeAgent.start((f, a) ->
                f.message() instanceof Message.Ping || f.message() instanceof Message.Hello ? null : List.of());
             ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> pending = List.of(
                    ex.submit(() -> fake.client.stat("/a", T)),
                    ex.submit(() -> fake.client.list("/", T)),
                    ex.submit(() -> fake.client.writeFile("/f", 0644, false, false,
                            InputStream.nullInputStream(), T)));
            Thread.sleep(100);
            long start = System.nanoTime();
            fake.hangUp();
            for (Future<?> f : pending) {
                assertThatThrownBy(f::get).hasCauseInstanceOf(AgentDisconnectedException.class);
            }
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
            assertThatThrownBy(() -> fake.client.ping(T)).isInstanceOf(AgentDisconnectedException.class);
        }
    }

    @Test
    void closeIsIdempotentAndFailsOpenStreams() throws Exception {
        try (FakeAgent fake = FakeAgent.start((f, a) -> f.message() instanceof Message.Stat ? List.of() : null);
             ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<?> stat = ex.submit(() -> fake.client.stat("/a", T));
            Thread.sleep(50);
            fake.client.close();
            fake.client.close();
            assertThatThrownBy(stat::get).hasCauseInstanceOf(AgentDisconnectedException.class)
                    .hasMessageContaining("closed");
        }
    }

    @Test
    void uploadIsPacedByCreditAndFast() throws Exception {
        try (FakeAgent fake = FakeAgent.start((f, a) -> null)) {
            long size = 256L << 20;
            for (int round = 0; round < 3; round++) {
                long before = fake.fileBytes();
                long t0 = System.nanoTime();
                fake.client.writeFile("/big", 0644, false, false, new ZeroStream(size), T);
                double seconds = (System.nanoTime() - t0) / 1e9;
                assertThat(fake.fileBytes() - before).isEqualTo(size);
                log.info("upload to an in-process peer: {} MB/s", String.format("%.0f", size / 1e6 / seconds));
            }
        }
    }

    @Test
    void uploadStallsWithoutCreditAndTimesOut() throws Exception {
        try (FakeAgent fake = FakeAgent.start((f, a) -> f.message() instanceof Message.FileData ? List.of() : null)) {
            assertThatThrownBy(() -> fake.client.writeFile("/big", 0644, false, false, new ZeroStream(4 << 20),
                    Duration.ofMillis(300))).isInstanceOf(AgentTimeoutException.class).hasMessageContaining("write file /big");
            assertThat(fake.fileBytes()).isEqualTo(1 << 20);
        }
    }

    @Test
    void shutdownWaitsForOkAndUnexpectedRepliesAreRejected() throws Exception {
        try (FakeAgent fake = FakeAgent.start((f, a) -> switch (f.message()) {
            case Message.Shutdown s -> List.of(new Frame(f.streamId(), new Message.Ok()));
            case Message.Stat s -> List.of(new Frame(f.streamId(), new Message.Ok()));
            default -> null;
        })) {
            fake.client.shutdown(T); // never against the real agent on the host: it powers the machine off
            assertThatThrownBy(() -> fake.client.stat("/x", T))
                    .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).contains(ErrorCode.BAD_FRAME))
                    .hasMessageContaining("expected StatResult");
        }
    }

    /** {@code size} zero bytes. */
    private static final class ZeroStream extends InputStream {
        private long left;

        ZeroStream(long size) {
            this.left = size;
        }

        @Override
        public int read() {
            return left-- > 0 ? 0 : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (left <= 0) {
                return -1;
            }
            int n = (int) Math.min(len, left);
            java.util.Arrays.fill(b, off, off + n, (byte) 0);
            left -= n;
            return n;
        }
    }

}
