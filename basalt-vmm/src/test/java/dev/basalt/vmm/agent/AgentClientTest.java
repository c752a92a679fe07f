package dev.basalt.vmm.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.protocol.DirEntry;
import dev.basalt.protocol.ErrorCode;
import dev.basalt.protocol.ExitKind;
import dev.basalt.protocol.FileType;
import dev.basalt.protocol.Message;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link AgentClient} against the real C agent running on the host. */
class AgentClientTest {
    private static final Logger log = LoggerFactory.getLogger(AgentClientTest.class);
    private static final Duration T = Duration.ofSeconds(30);

    private RealAgent agent;
    private AgentClient client;

    @BeforeEach
    void start() throws Exception {
        agent = RealAgent.start();
        client = agent.client;
    }

    @AfterEach
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
    }

    @Test
    void helloAndPing() {
        assertThat(client.helloReply().version()).isEqualTo(1);
        assertThat(client.helloReply().kernelRelease()).isNotEmpty();
        for (int i = 0; i < 200; i++) {
            client.ping(T); // warm-up
        }
        long[] micros = new long[2000];
        for (int i = 0; i < micros.length; i++) {
            micros[i] = client.ping(T).toNanos() / 1000;
        }
        Arrays.sort(micros);
        log.info("ping round trip to the local agent: median {} us, p99 {} us", micros[micros.length / 2],
                micros[micros.length * 99 / 100]);
        assertThat(micros[micros.length / 2]).isLessThan(2_000);
    }

    @Test
    void execCollectsStdoutStderrAndExitCode() {
        try (ExecSession s = client.exec(ExecSpec.shell("echo out; echo err >&2; exit 3"))) {
            assertThat(s.pid()).isPositive();
            ExecResult r = s.collect(1 << 20, T);
            assertThat(r.stdoutText()).isEqualTo("out\n");
            assertThat(r.stderrText()).isEqualTo("err\n");
            assertThat(r.exitCode()).isEqualTo(3);
            assertThat(r.truncated()).isFalse();
        }
    }

    @Test
    void execWithEnvAndCwd() throws Exception {
        Path dir = agent.workDir();
        ExecResult r = client.exec(ExecSpec.shell("echo \"$FOO\"; pwd").withEnv(Map.of("FOO", "bar baz"))
                .withCwd(dir.toString())).collect(4096, T);
        assertThat(r.stdoutText()).isEqualTo("bar baz\n" + dir.toRealPath() + "\n");
        assertThat(r.exit().success()).isTrue();
    }

    @Test
    void execEventsArriveInOrder() {
        ExecSession s = client.exec(ExecSpec.of("echo", "hi"));
        List<ExecEvent> events = new ArrayList<>();
        ExecEvent e;
        do {
            e = s.next(T);
            events.add(e);
        } while (!(e instanceof ExecEvent.Exited));
        assertThat(events.getFirst()).isEqualTo(new ExecEvent.Started(s.pid()));
        assertThat(events.getLast()).isEqualTo(new ExecEvent.Exited(ExitKind.EXITED, 0));
        assertThatThrownBy(() -> s.next(T)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void stdinStreamIsEchoedBackWithFlowControlBothWays() throws Exception {
        byte[] input = new byte[3 * 1024 * 1024 + 17];
        new Random(3).nextBytes(input);
        ExecSession s = client.exec(ExecSpec.of("cat").withStdin());
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<?> writer = ex.submit(() -> {
                s.writeStdin(input, T);
                s.closeStdin();
                return null;
            });
            ExecResult r = s.collect(8 << 20, T);
            writer.get();
            assertThat(r.exitCode()).isZero();
            assertThat(r.stdout()).isEqualTo(input);
        }
    }

    @Test
    void agentTimeoutEndsWithTimedOut() {
        ExecSession s = client.exec(ExecSpec.of("sleep", "30").withTimeout(Duration.ofMillis(300)));
        long start = System.nanoTime();
        assertThat(s.awaitExit(T)).isEqualTo(new ExecEvent.Exited(ExitKind.TIMED_OUT, 9));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void clientTimeoutCancelsTheProcess() {
        ExecSession s = client.exec(ExecSpec.of("sleep", "30"));
        assertThatThrownBy(() -> s.awaitExit(Duration.ofMillis(200))).isInstanceOf(AgentTimeoutException.class)
                .hasMessageContaining("exec [sleep, 30]");
        // the CANCEL makes the agent kill it and end the stream
        assertThat(client.exec(ExecSpec.shell("sleep 0.2; ps -o pid= -p " + s.pid() + " || echo gone"))
                .collect(4096, T).stdoutText()).contains("gone");
    }

    @Test
    void signalReachesTheProcessGroup() {
        ExecSession s = client.exec(ExecSpec.of("sleep", "30"));
        s.signal(15);
        assertThat(s.awaitExit(T)).isEqualTo(new ExecEvent.Exited(ExitKind.SIGNALED, 15));
    }

    @Test
    void twentyParallelExecsOnOneClient() throws Exception {
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<ExecResult>> results = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                String script = "i=" + i + "; head -c 100000 /dev/zero | tr '\\0' x; echo; echo $i; exit $i";
                results.add(ex.submit(() -> client.exec(ExecSpec.shell(script)).collect(1 << 20, T)));
            }
            for (int i = 0; i < 20; i++) {
                ExecResult r = results.get(i).get();
                assertThat(r.exitCode()).isEqualTo(i);
                assertThat(r.stdoutText()).hasSize(100_000 + 1 + String.valueOf(i).length() + 1).endsWith("\n" + i + "\n");
            }
        }
    }

    @Test
    void floodingProcessIsPausedWhileTheReaderIsSlow() throws Exception {
        ExecSession s = client.exec(ExecSpec.shell("head -c 200000000 /dev/zero"));
        long maxBuffered = 0;
        long received = 0;
        for (int i = 0; i < 20; i++) {
            ExecEvent e = s.next(T);
            if (e instanceof ExecEvent.Stdout o) {
                received += o.data().length();
            }
            Thread.sleep(25);
            maxBuffered = Math.max(maxBuffered, s.bufferedBytes());
        }
        log.info("slow reader: {} bytes consumed, at most {} bytes buffered", received, maxBuffered);
        assertThat(maxBuffered).isLessThanOrEqualTo(1 << 20);

        CountingStream counter = new CountingStream();
        long start = System.nanoTime();
        ExecEvent.Exited exit = s.pump(counter, OutputStream.nullOutputStream(), Duration.ofSeconds(120));
        double seconds = (System.nanoTime() - start) / 1e9;
        assertThat(exit.success()).isTrue();
        assertThat(received + counter.count).isEqualTo(200_000_000L);
        log.info("stdout throughput: {} MB/s", String.format("%.0f", counter.count / 1e6 / seconds));
    }

    @Test
    void writeAndReadA64MibFileVerifiedBySha256() throws Exception {
        Path dir = agent.workDir();
        byte[] data = new byte[64 * 1024 * 1024];
        new Random(64).nextBytes(data);
        String path = dir.resolve("sub/big.bin").toString();

        double up = Double.MAX_VALUE;
        double down = Double.MAX_VALUE;
        ByteArrayOutputStream sink = null;
        Message.StatResult stat = null;
        for (int round = 0; round < 3; round++) { // best of three: the first one warms the JIT up
            long t0 = System.nanoTime();
            client.writeFile(path, 0640, true, false, new ByteArrayInputStream(data), T);
            up = Math.min(up, (System.nanoTime() - t0) / 1e9);
            sink = new ByteArrayOutputStream(data.length);
            long t1 = System.nanoTime();
            stat = client.readFile(path, sink, T);
            down = Math.min(down, (System.nanoTime() - t1) / 1e9);
        }
        log.info("64 MiB file: write {} MB/s, read {} MB/s", String.format("%.0f", data.length / 1e6 / up),
                String.format("%.0f", data.length / 1e6 / down));

        assertThat(stat.size()).isEqualTo(data.length);
        assertThat(stat.mode()).isEqualTo(0640);
        assertThat(sha256(sink.toByteArray())).isEqualTo(sha256(data)).isEqualTo(sha256(Files.readAllBytes(Path.of(path))));
        client.writeFile(path, 0640, false, true, new ByteArrayInputStream("tail".getBytes()), T);
        assertThat(Files.size(Path.of(path))).isEqualTo(data.length + 4L);
    }

    @Test
    void statListMkdirRenameRemove() throws Exception {
        Path dir = agent.workDir();
        client.mkdir(dir.resolve("a/b/c").toString(), 0750, T);
        client.mkdir(dir.resolve("a/b/c").toString(), 0750, T); // exists: fine
        client.writeFile(dir.resolve("a/f.txt").toString(), 0600, false, false, new ByteArrayInputStream("abc".getBytes()), T);
        Message.StatResult st = client.stat(dir.resolve("a/f.txt").toString(), T);
        assertThat(st.fileType()).isEqualTo(FileType.FILE);
        assertThat(st.size()).isEqualTo(3);
        assertThat(st.mtimeMs()).isCloseTo(System.currentTimeMillis(), org.assertj.core.data.Offset.offset(60_000L));
        assertThat(client.stat(dir.resolve("a/b").toString(), T).fileType()).isEqualTo(FileType.DIRECTORY);

        List<DirEntry> entries = client.list(dir.resolve("a").toString(), T);
        assertThat(entries).extracting(DirEntry::name).containsExactlyInAnyOrder("b", "f.txt");
        assertThat(entries).filteredOn(e -> e.name().equals("f.txt")).singleElement()
                .satisfies(e -> assertThat(e.mode()).isEqualTo(0600));

        client.rename(dir.resolve("a/f.txt").toString(), dir.resolve("a/g.txt").toString(), T);
        assertThat(Files.readString(dir.resolve("a/g.txt"))).isEqualTo("abc");
        assertThatThrownBy(() -> client.remove(dir.resolve("a").toString(), false, T))
                .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).contains(ErrorCode.NOT_EMPTY));
        client.remove(dir.resolve("a").toString(), true, T);
        assertThat(dir.resolve("a")).doesNotExist();
    }

    @Test
    void manyFilesListAcrossSeveralFrames() throws Exception {
        Path dir = agent.workDir();
        for (int i = 0; i < 3000; i++) {
            Files.createFile(dir.resolve("file-with-a-rather-long-name-number-" + i));
        }
        assertThat(client.list(dir.toString(), T)).hasSize(3000);
    }

    @Test
    void errorsCarryTheAgentsCode() {
        assertThatThrownBy(() -> client.stat("/nonexistent/basalt/x", T))
                .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).contains(ErrorCode.NOT_FOUND))
                .hasMessageContaining("/nonexistent/basalt/x");
        assertThatThrownBy(() -> client.readFile("/nonexistent/basalt/x", OutputStream.nullOutputStream(), T))
                .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).contains(ErrorCode.NOT_FOUND));
        assertThatThrownBy(() -> client.stat("relative/path", T))
                .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).contains(ErrorCode.INVALID_ARGUMENT));
        assertThatThrownBy(() -> client.writeFile("/tmp/../etc/x", 0644, false, false, new ByteArrayInputStream(new byte[10]), T))
                .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).contains(ErrorCode.INVALID_ARGUMENT));
        assertThatThrownBy(() -> client.exec(ExecSpec.of("no-such-program-basalt")))
                .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).contains(ErrorCode.NOT_FOUND));
        assertThatThrownBy(() -> client.readFile("/", OutputStream.nullOutputStream(), T))
                .isInstanceOfSatisfying(AgentException.class, e -> assertThat(e.code()).contains(ErrorCode.IS_A_DIRECTORY));
        client.ping(T); // the channel is still fine
    }

    @Test
    void killedAgentFailsPendingOperationsPromptly() throws Exception {
        ExecSession s = client.exec(ExecSpec.of("sleep", "30"));
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<ExecEvent.Exited> waiting = ex.submit(() -> s.awaitExit(T));
            Thread.sleep(100);
            long start = System.nanoTime();
            agent.process.destroyForcibly(); // SIGKILL to the agent we started
            assertThatThrownBy(waiting::get).hasCauseInstanceOf(AgentDisconnectedException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
        }
        assertThat(client.isOpen()).isFalse();
        assertThatThrownBy(() -> client.ping(T)).isInstanceOf(AgentDisconnectedException.class);
        assertThatThrownBy(() -> client.exec(ExecSpec.of("true"))).isInstanceOf(AgentDisconnectedException.class);
    }

    @Test
    void identityAbortsOpenExecsAndFailsTheirSessionsPromptly() throws Exception {
        ExecSession sleeper = client.exec(ExecSpec.of("sleep", "1000"));
        ExecSession talker = client.exec(ExecSpec.shell("echo x; exec sleep 1000"));
        assertThat(talker.next(T)).isInstanceOf(ExecEvent.Started.class);
        assertThat(talker.next(T)).isInstanceOf(ExecEvent.Stdout.class);
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<ExecResult> collecting = ex.submit(() -> sleeper.collect(1 << 20, T));
            Future<ExecEvent> nextEvent = ex.submit(() -> talker.next(T));
            Thread.sleep(100); // both callers are blocked on their streams
            long start = System.nanoTime();
            client.identity("clone-1", java.time.Instant.now().plus(Duration.ofDays(1)), new byte[64], T);
            for (Future<?> f : List.of(collecting, nextEvent)) {
                assertThatThrownBy(f::get).cause().isInstanceOfSatisfying(AgentException.class, e -> {
                    assertThat(e.code()).contains(ErrorCode.CANCELLED);
                    assertThat(e).hasMessageContaining("aborted by IDENTITY");
                });
            }
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
        }
        for (int pid : new int[] {sleeper.pid(), talker.pid()}) { // --connect mode: the processes are ours
            long end = System.nanoTime() + Duration.ofSeconds(3).toNanos();
            while (Files.exists(Path.of("/proc", String.valueOf(pid))) && System.nanoTime() < end) {
                Thread.sleep(10);
            }
            assertThat(Path.of("/proc", String.valueOf(pid))).as("pid %d after IDENTITY", pid).doesNotExist();
        }
        assertThatThrownBy(() -> sleeper.awaitExit(T)).isInstanceOf(AgentException.class);
        sleeper.close(); // harmless on an aborted stream
        try (ExecSession after = client.exec(ExecSpec.shell("echo still here"))) {
            assertThat(after.collect(1 << 20, T).stdoutText()).isEqualTo("still here\n");
        }
        client.identity("clone-2", java.time.Instant.now(), new byte[32], T); // nothing open: fine too
        client.ping(T);
    }

    @Test
    void identityWithInvalidArgumentsFailsWithInvalidArgumentAndChangesNothing() throws Exception {
        java.time.Instant now = java.time.Instant.now();
        try (ExecSession running = client.exec(ExecSpec.of("sleep", "1000"))) {
            for (Runnable bad : List.<Runnable>of(
                    () -> client.identity("bad_name", now, new byte[32], T),
                    () -> client.identity("", now, new byte[32], T),
                    () -> client.identity("h".repeat(65), now, new byte[32], T),
                    () -> client.identity("vm", java.time.Instant.EPOCH, new byte[32], T),
                    () -> client.identity("vm", java.time.Instant.EPOCH.minusNanos(1), new byte[32], T),
                    () -> client.identity("vm", now, new byte[31], T),
                    () -> client.identity("vm", now, new byte[513], T))) {
                assertThatThrownBy(bad::run).isInstanceOfSatisfying(AgentException.class,
                        e -> assertThat(e.code()).contains(ErrorCode.INVALID_ARGUMENT));
            }
            assertThatThrownBy(() -> client.identity("a\0b", now, new byte[32], T))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> client.identity("vm", java.time.Instant.MAX, new byte[32], T))
                    .isInstanceOf(IllegalArgumentException.class);
            // the exec survived: an invalid IDENTITY has no effect in the guest
            assertThat(Path.of("/proc", String.valueOf(running.pid()))).exists();
            running.signal(15);
            assertThat(running.awaitExit(T).kind()).isEqualTo(ExitKind.SIGNALED);
        }
        client.identity("h".repeat(64), now, new byte[512], T); // the edges of the valid ranges
    }

    private static String sha256(byte[] data) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(data));
    }

    private static final class CountingStream extends OutputStream {
        long count;

        @Override
        public void write(int b) {
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            count += len;
        }
    }
}
