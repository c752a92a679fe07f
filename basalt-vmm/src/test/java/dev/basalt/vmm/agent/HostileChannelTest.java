package dev.basalt.vmm.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.basalt.protocol.Bytes;
import dev.basalt.protocol.Frame;
import dev.basalt.protocol.FrameCodec;
import dev.basalt.protocol.Message;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * What a hostile guest can do to the agent channel (guest root can write and read the agent's port
 * through {@code pidfd_getfd}), played by an in-test peer over a real unix socket: every attack
 * ends the channel within seconds with a reason that says what happened, waiting calls fail with
 * it, the loss is reported to {@link AgentClient#whenLost} listeners, the host buffers no more
 * than a window, and the host's log gets a handful of lines naming the sandbox.
 */
class HostileChannelTest {
    private static final Duration LONG = Duration.ofSeconds(60);
    private static final Duration MS500 = Duration.ofMillis(500);

    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    private final Logger channelLog = (Logger) LoggerFactory.getLogger(AgentChannel.class);
    private ExecutorService ex;

    @BeforeEach
    void capture() {
        logged.start();
        channelLog.addAppender(logged);
        ex = Executors.newVirtualThreadPerTaskExecutor();
    }

    @AfterEach
    void release() {
        channelLog.detachAppender(logged);
        ex.shutdownNow();
    }

    private static ChannelWatch watch(Duration frame, Duration write, Duration probeAfter, Duration probe) {
        return new ChannelWatch(frame, write, probeAfter, probe, 50);
    }

    /** The fake never answers STAT; everything else gets the default answers. */
    private static FakeAgent silentOnStat(ChannelWatch watch) throws Exception {
        return FakeAgent.start((f, a) -> f.message() instanceof Message.Stat ? List.of() : null, watch);
    }

    private static void raw(FakeAgent fake, byte[] bytes) {
        try {
            fake.sendRaw(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static CompletableFuture<AgentDisconnectedException> lost(AgentClient client) {
        CompletableFuture<AgentDisconnectedException> lost = new CompletableFuture<>();
        client.whenLost(lost::complete);
        return lost;
    }

    /** Waits for {@code pending} to fail with the channel's loss; returns how long it took from {@code since}. */
    private static Duration failsWith(Future<?> pending, long since, String reason) {
        assertThatThrownBy(() -> pending.get(20, TimeUnit.SECONDS)).cause()
                .isInstanceOf(AgentDisconnectedException.class).hasMessageContaining(reason);
        return Duration.ofNanos(System.nanoTime() - since);
    }

    private long warnings() {
        return logged.list.stream().filter(e -> e.getLevel() == Level.WARN).count();
    }

    @Test
    void aLengthOf0xFFFFFFFFFailsEveryCallAtOnce() throws Exception {
        try (FakeAgent fake = silentOnStat(ChannelWatch.DEFAULTS)) {
            var lost = lost(fake.client);
            Future<?> stat = ex.submit(() -> fake.client.stat("/x", LONG));
            Thread.sleep(100);
            long t0 = System.nanoTime();
            raw(fake, ByteBuffer.allocate(9).putInt(0xFFFFFFFF).putInt(1).put((byte) 0x91).array());
            assertThat(failsWith(stat, t0, "never sends")).isLessThan(Duration.ofSeconds(1));
            assertThat(lost.get(2, TimeUnit.SECONDS)).hasMessageContaining("FRAME_TOO_LARGE").hasMessageContaining("sandbox a.sock");
            assertThatThrownBy(() -> fake.client.ping(LONG)).isInstanceOf(AgentDisconnectedException.class)
                    .hasMessageContaining("never sends");
        }
    }

    @Test
    void aTruncatedFrameIsCaughtByTheFrameDeadline() throws Exception {
        // the fake answers STAT, but the reply lands inside the truncated frame's payload
        try (FakeAgent fake = FakeAgent.start((f, a) -> f.message() instanceof Message.Stat
                ? List.of(new Frame(f.streamId(), new Message.StatResult(dev.basalt.protocol.FileType.FILE, 0644, 1, 0)))
                : null, watch(MS500, LONG, LONG, LONG))) {
            var lost = lost(fake.client);
            raw(fake, ByteBuffer.allocate(19).putInt(1000).putInt(7).put((byte) 0x91).putInt(900).put(new byte[6]).array());
            long t0 = System.nanoTime();
            Future<?> stat = ex.submit(() -> fake.client.stat("/x", LONG));
            assertThat(failsWith(stat, t0, "incomplete")).isLessThan(Duration.ofSeconds(3));
            assertThat(lost.get(2, TimeUnit.SECONDS)).hasMessageContaining("out of step");
        }
    }

    @Test
    void randomBytesFailTheChannelWithinSeconds() throws Exception {
        Random random = new Random(16);
        for (int round = 0; round < 5; round++) {
            try (FakeAgent fake = silentOnStat(watch(MS500, LONG, LONG, LONG))) {
                var lost = lost(fake.client);
                Future<?> stat = ex.submit(() -> fake.client.stat("/x", LONG));
                Thread.sleep(50);
                byte[] garbage = new byte[4096];
                random.nextBytes(garbage);
                long t0 = System.nanoTime();
                raw(fake, garbage);
                assertThat(failsWith(stat, t0, "the agent channel failed")).isLessThan(Duration.ofSeconds(3));
                assertThat(lost.get(2, TimeUnit.SECONDS)).isNotNull();
            }
        }
    }

    @Test
    void twoMegabytesOfTinyBadFramesAreOneFailureAndOneLogLine() throws Exception {
        try (FakeAgent fake = silentOnStat(ChannelWatch.DEFAULTS)) {
            var lost = lost(fake.client);
            Future<?> stat = ex.submit(() -> fake.client.stat("/x", LONG));
            Thread.sleep(50);
            long t0 = System.nanoTime();
            ex.submit(() -> {
                try {
                    fake.sendRaw(new byte[2 << 20]);     // 524,288 frames of length 0
                } catch (IOException e) {
                    // the host hung up on us: expected
                }
                return null;
            });
            assertThat(failsWith(stat, t0, "shorter than 5")).isLessThan(Duration.ofSeconds(2));
            lost.get(2, TimeUnit.SECONDS);
            assertThat(warnings()).isLessThanOrEqualTo(2);
        }
    }

    @Test
    void aFloodOfMalformedFramesIsRateLimitedInTheLogAndThenGivenUp() throws Exception {
        try (FakeAgent fake = silentOnStat(ChannelWatch.DEFAULTS)) {
            var lost = lost(fake.client);
            // EXIT with kind 7 on streams that were never opened: a well-delimited frame with a bad payload
            ByteArrayOutputStream flood = new ByteArrayOutputStream();
            for (int i = 0; i < 5000; i++) {
                flood.writeBytes(ByteBuffer.allocate(14).putInt(10).putInt(1000 + i).put((byte) 0x93).put((byte) 7).putInt(0).array());
            }
            ex.submit(() -> {
                try {
                    fake.sendRaw(flood.toByteArray());
                } catch (IOException e) {
                    // hung up on
                }
                return null;
            });
            assertThat(lost.get(5, TimeUnit.SECONDS)).hasMessageContaining("malformed frames").hasMessageContaining("flood");
            assertThat(warnings()).as("warnings logged").isLessThanOrEqualTo(GuestWarnings.BURST + 1);
            assertThat(logged.list).allSatisfy(e -> assertThat(e.getFormattedMessage()).contains("sandbox a.sock"));
        }
    }

    @Test
    void frameForStreamsThatAreNotOpenAreDroppedUntilTheyBecomeAFlood() throws Exception {
        try (FakeAgent fake = silentOnStat(ChannelWatch.DEFAULTS)) {
            var lost = lost(fake.client);
            for (int i = 0; i < 40; i++) {
                fake.send(new Frame(5000 + i, new Message.Stdout(Bytes.copyOf(new byte[] {'x'}))));
            }
            assertThat(fake.client.ping(LONG)).isPositive();     // a few late frames are harmless
            for (int i = 0; i < 2000; i++) {
                fake.send(new Frame(9000 + i, new Message.Stdout(Bytes.copyOf(new byte[] {'x'}))));
            }
            assertThat(lost.get(5, TimeUnit.SECONDS)).hasMessageContaining("streams that are not open");
        }
    }

    @Test
    void aForgedOverrunOnASlowReaderFailsAtOnceAndBuffersNoMoreThanTheWindow() throws Exception {
        int[] execStream = {0};
        try (FakeAgent fake = FakeAgent.start((f, a) -> {
            if (f.message() instanceof Message.Exec) {
                execStream[0] = f.streamId();
                return List.of(new Frame(f.streamId(), new Message.ExecStarted(42)));
            }
            return null;
        })) {
            var lost = lost(fake.client);
            ExecSession session = fake.client.exec(ExecSpec.of("cat"));
            byte[] chunk = new byte[32 * 1024];
            for (int i = 0; i < 3 * 32; i++) {    // 3 MiB: far past the 1 MiB window
                fake.send(new Frame(execStream[0], new Message.Stdout(Bytes.copyOf(chunk))));
            }
            assertThat(lost.get(5, TimeUnit.SECONDS)).hasMessageContaining("more output than its window");
            assertThat(session.bufferedBytes()).isZero();      // what was queued is dropped, not delivered slowly
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> {
                while (true) {
                    session.next(LONG);    // the slow reader comes back: the first item may be Started
                }
            }).isInstanceOf(AgentDisconnectedException.class).hasMessageContaining("window");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));
            assertThatThrownBy(() -> fake.client.ping(LONG)).isInstanceOf(AgentDisconnectedException.class);
        }
    }

    @Test
    void aGuestThatStopsReadingIsGivenUp() throws Exception {
        CountDownLatch unblock = new CountDownLatch(1);
        try (FakeAgent fake = FakeAgent.start((f, a) -> {
            if (f.message() instanceof Message.FileWrite) {
                try {
                    unblock.await();           // the peer stops reading its socket
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return null;
        }, watch(LONG, MS500, LONG, LONG))) {
            var lost = lost(fake.client);
            long t0 = System.nanoTime();
            Future<?> upload = ex.submit(() -> {
                fake.client.writeFile("/big", 0644, false, false, new java.io.ByteArrayInputStream(new byte[8 << 20]), LONG);
                return null;
            });
            assertThat(failsWith(upload, t0, "has not read the agent channel")).isLessThan(Duration.ofSeconds(4));
            lost.get(2, TimeUnit.SECONDS);
        } finally {
            unblock.countDown();
        }
    }

    @Test
    void anAgentThatStopsAnsweringIsFoundByTheLivenessProbe() throws Exception {
        try (FakeAgent fake = FakeAgent.start((f, a) -> f.message() instanceof Message.Hello ? null : List.of(),
                watch(LONG, LONG, Duration.ofMillis(300), Duration.ofMillis(700)))) {
            var lost = lost(fake.client);
            long t0 = System.nanoTime();
            Future<?> stat = ex.submit(() -> fake.client.stat("/x", LONG));
            assertThat(failsWith(stat, t0, "did not answer a PING")).isLessThan(Duration.ofSeconds(4));
            lost.get(2, TimeUnit.SECONDS);
            assertThat(fake.received).anySatisfy(d -> assertThat(d).isInstanceOfSatisfying(Frame.class,
                    f -> assertThat(f.message()).isInstanceOf(Message.Ping.class)));
        }
    }

    @Test
    void aGuestTheHostPausedIsNotGivenUpUntilItRunsAgain() throws Exception {
        try (FakeAgent fake = FakeAgent.start((f, a) -> f.message() instanceof Message.Hello ? null : List.of(),
                watch(MS500, MS500, Duration.ofMillis(300), Duration.ofMillis(700)))) {
            var lost = lost(fake.client);
            fake.client.guestPaused(true);
            Future<?> stat = ex.submit(() -> fake.client.stat("/x", LONG));
            Thread.sleep(2500);
            assertThat(lost).as("given up while the host held the guest paused").isNotDone();
            long t0 = System.nanoTime();
            fake.client.guestPaused(false);
            assertThat(failsWith(stat, t0, "did not answer a PING")).isLessThan(Duration.ofSeconds(4));
        }
    }

    @Test
    void aSlowButLiveAgentIsNotGivenUp() throws Exception {
        try (FakeAgent fake = FakeAgent.start((f, a) -> {
            if (f.message() instanceof Message.Stat) {
                Thread.ofVirtual().start(() -> {
                    try {
                        Thread.sleep(2500);
                    } catch (InterruptedException e) {
                        return;
                    }
                    a.send(new Frame(f.streamId(), new Message.StatResult(dev.basalt.protocol.FileType.FILE, 0644, 1, 0)));
                });
                return List.of();
            }
            return null;                                             // PINGs answered at once
        }, watch(MS500, MS500, Duration.ofMillis(300), Duration.ofMillis(700)))) {
            var lost = lost(fake.client);
            assertThat(fake.client.stat("/x", LONG).size()).isEqualTo(1);
            assertThat(lost).isNotDone();
            long pings = fake.received.stream().filter(d -> d instanceof Frame f && f.message() instanceof Message.Ping).count();
            assertThat(pings).as("liveness probes while the STAT waited").isGreaterThanOrEqualTo(2);
        }
    }

    @Test
    void closingTheChannelIsNotALoss() throws Exception {
        try (FakeAgent fake = FakeAgent.start((f, a) -> null)) {
            var lost = lost(fake.client);
            fake.client.close();
            Thread.sleep(200);
            assertThat(lost).isNotDone();
        }
    }

    @Test
    void theAgentHangingUpIsALoss() throws Exception {
        try (FakeAgent fake = FakeAgent.start((f, a) -> null)) {
            var lost = lost(fake.client);
            fake.hangUp();
            assertThat(lost.get(2, TimeUnit.SECONDS)).hasMessageContaining("closed its channel");
            CompletableFuture<AgentDisconnectedException> late = new CompletableFuture<>();
            fake.client.whenLost(late::complete);
            assertThat(late.get(2, TimeUnit.SECONDS)).isSameAs(lost.get());
        }
    }

    @Test
    void guestWarningsAreRateLimited() {
        GuestWarnings w = new GuestWarnings(LoggerFactory.getLogger(AgentChannel.class), "sb1");
        for (int i = 0; i < 1000; i++) {
            w.warn("bad thing {}", i);
        }
        assertThat(warnings()).isEqualTo(GuestWarnings.BURST);
        assertThat(w.suppressed()).isEqualTo(1000 - GuestWarnings.BURST);
        assertThat(logged.list.getFirst().getFormattedMessage()).isEqualTo("sandbox sb1: bad thing 0");
    }
}
