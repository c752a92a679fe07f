package dev.basalt.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecOutput;
import dev.basalt.api.ExecProcess;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.ExecResult;
import dev.basalt.api.ExitStatus;
import dev.basalt.api.FileInfo;
import dev.basalt.api.FileType;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.SandboxState;
import dev.basalt.api.SnapshotInfo;
import dev.basalt.grpc.RemoteSandboxes;
import dev.basalt.grpc.v1.ListRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The whole port through the wire: an in-process basaltd over a real manager, a RemoteSandboxes client. */
@ExtendWith(GrpcVms.class)
class GrpcSandboxTest {
    private static final Logger log = LoggerFactory.getLogger(GrpcSandboxTest.class);

    @Test
    void inspectListAndBufferedExec(GrpcVms.Stack s) throws InterruptedException {
        RemoteSandboxes client = s.client();
        SandboxInfo info = client.inspect(s.sharedId());
        assertThat(info).isEqualTo(s.manager().inspect(s.sharedId()));
        assertThat(info.state()).isIn(SandboxState.READY, SandboxState.RUNNING);
        assertThat(client.list()).extracting(SandboxInfo::id).contains(s.sharedId());
        assertThat(client.list(ListRequest.newBuilder().addStates(dev.basalt.grpc.v1.SandboxState.STOPPED).build()))
                .extracting(SandboxInfo::id).doesNotContain(s.sharedId());
        assertThat(client.list(ListRequest.newBuilder().putLabels("no", "such").build())).isEmpty();
        assertThat(client.ping(s.sharedId(), Duration.ofSeconds(5))).isPositive();

        ExecResult r = client.exec(s.sharedId(), ExecRequest.of("sh", "-c", "echo out; echo err >&2; cat; exit 3")
                .withStdin("in\n".getBytes()).withEnv(Map.of("X", "1")));
        assertThat(r.exit()).isEqualTo(new ExitStatus.Exited(3));
        assertThat(r.stdoutText()).isEqualTo("out\nin\n");
        assertThat(r.stderrText()).isEqualTo("err\n");
        assertThat(client.exec(s.sharedId(), ExecRequest.of("sleep", "5").withTimeout(Duration.ofMillis(300))).exit())
                .isEqualTo(new ExitStatus.TimedOut());
        client.exec(s.sharedId(), ExecRequest.of("sh", "-c", "echo console-check > /dev/console"));
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();   // the UART drains after write() returns
        while (!client.consoleLog(s.sharedId(), 4096).contains("console-check") && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(client.consoleLog(s.sharedId(), 4096)).contains("console-check");
    }

    @Test
    void pauseResumeAndGuestUsersThroughTheWire(GrpcVms.Stack s) {
        RemoteSandboxes client = s.client();
        dev.basalt.api.GuestUser nobody = new dev.basalt.api.GuestUser(65534, 65534);
        String id = client.create(dev.basalt.api.SandboxSpec.defaults()).id();
        try {
            assertThat(client.exec(id, ExecRequest.of("id", "-u").withUser(nobody)).stdoutText()).isEqualTo("65534\n");
            client.writeFile(id, "/tmp/owned/f", new java.io.ByteArrayInputStream("x".getBytes()), 0644, nobody);
            client.mkdir(id, "/tmp/owned/d", nobody);
            assertThat(client.exec(id, ExecRequest.of("sh", "-c", "stat -c %u /tmp/owned/f /tmp/owned/d")).stdoutText())
                    .isEqualTo("65534\n65534\n");
            assertThatThrownBy(() -> client.writeFile(id, "/root/no", new java.io.ByteArrayInputStream("x".getBytes()), 0644, nobody))
                    .isInstanceOf(dev.basalt.api.BasaltException.PermissionDenied.class);

            assertThat(client.pause(id).state()).isEqualTo(SandboxState.PAUSED);
            assertThat(client.inspect(id).state()).isEqualTo(SandboxState.PAUSED);
            assertThatThrownBy(() -> client.exec(id, ExecRequest.of("true")))
                    .isInstanceOf(dev.basalt.api.BasaltException.WrongState.class).hasMessageContaining("resume");
            assertThat(client.resume(id).state()).isEqualTo(SandboxState.READY);
            assertThat(client.exec(id, ExecRequest.of("cat", "/tmp/owned/f")).stdoutText()).isEqualTo("x");
        } finally {
            client.remove(id);
        }
    }

    @Test
    void runStreamsOutputInOrder(GrpcVms.Stack s) {
        List<String> events = new ArrayList<>();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ExecResult r = s.client().exec(s.sharedId(), ExecRequest.of("sh", "-c", "seq 1 20000; echo done >&2"), new ExecOutput() {
            @Override public void stdout(byte[] chunk) { out.writeBytes(chunk); }
            @Override public void stderr(byte[] chunk) { events.add(new String(chunk)); }
        });
        assertThat(r.exit().success()).isTrue();
        String[] lines = out.toString().split("\n");
        assertThat(lines).hasSize(20000);
        assertThat(lines[19999]).isEqualTo("20000");
        assertThat(String.join("", events)).isEqualTo("done\n");
    }

    @Test
    void interactiveExecWithStdinSignalsAndPtyResize(GrpcVms.Stack s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ExecOutput sink = new ExecOutput() {
            @Override public synchronized void stdout(byte[] chunk) { out.writeBytes(chunk); }
            @Override public void stderr(byte[] chunk) { }
        };
        try (ExecProcess cat = s.client().start(s.sharedId(), ExecRequest.of("cat"), sink)) {
            assertThat(cat.pid()).isPositive();
            cat.writeStdin("hello ".getBytes());
            cat.writeStdin("world".getBytes());
            cat.closeStdin();
            assertThat(cat.awaitExit(Duration.ofSeconds(30))).isEqualTo(new ExitStatus.Exited(0));
        }
        assertThat(out.toString()).isEqualTo("hello world");

        try (ExecProcess sleeper = s.client().start(s.sharedId(), ExecRequest.of("sleep", "60"), ExecOutput.discard())) {
            sleeper.signal(15);
            assertThat(sleeper.awaitExit(Duration.ofSeconds(30))).isEqualTo(new ExitStatus.Signaled(15));
        }

        out.reset();
        try (ExecProcess shell = s.client().start(s.sharedId(), ExecRequest.of("sh").withPty(true), sink)) {
            shell.resize(37, 101);
            shell.writeStdin("stty size; exit 7\n".getBytes());
            assertThat(shell.awaitExit(Duration.ofSeconds(30))).isEqualTo(new ExitStatus.Exited(7));
        }
        assertThat(out.toString()).contains("37 101");
    }

    @Test
    void uploadAndDownload32MiBKeepTheirSha256(GrpcVms.Stack s) throws Exception {
        int size = 32 << 20;
        byte[] data = new byte[size];
        new Random(42).nextBytes(data);
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        long t0 = System.nanoTime();
        s.client().writeFile(s.sharedId(), "/tmp/grpc/big.bin", new ByteArrayInputStream(data), 0600);
        long t1 = System.nanoTime();
        MessageDigest back = MessageDigest.getInstance("SHA-256");
        AtomicLong count = new AtomicLong();
        FileInfo info = s.client().readFile(s.sharedId(), "/tmp/grpc/big.bin", new OutputStream() {
            @Override public void write(int b) { back.update((byte) b); count.incrementAndGet(); }
            @Override public void write(byte[] b, int off, int len) { back.update(b, off, len); count.addAndGet(len); }
        });
        long t2 = System.nanoTime();
        log.info("32 MiB through gRPC: upload {} ms, download {} ms", (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000);
        assertThat(count.get()).isEqualTo(size);
        assertThat(HexFormat.of().formatHex(back.digest())).isEqualTo(expected);
        assertThat(info.size()).isEqualTo(size);
        assertThat(info.mode()).isEqualTo(0600);
        assertThat(s.client().exec(s.sharedId(), ExecRequest.of("sha256sum", "/tmp/grpc/big.bin")).stdoutText())
                .startsWith(expected);
        s.client().removeFile(s.sharedId(), "/tmp/grpc", true);
    }

    @Test
    void aFailingUploadSourceLeavesNoFile(GrpcVms.Stack s) {
        InputStream failing = new InputStream() {
            private int left = 3 << 20;
            @Override public int read() { return read(new byte[1], 0, 1) < 0 ? -1 : 0; }
            @Override public int read(byte[] b, int off, int len) {
                if (left <= 0) {
                    throw new java.io.UncheckedIOException(new java.io.IOException("disk on fire"));
                }
                int n = Math.min(len, left);
                Arrays.fill(b, off, off + n, (byte) 'x');
                left -= n;
                return n;
            }
        };
        assertThatThrownBy(() -> s.client().writeFile(s.sharedId(), "/tmp/half.bin", failing, 0644))
                .hasMessageContaining("disk on fire");
        await(() -> s.client().exec(s.sharedId(), ExecRequest.of("sh", "-c", "ls -a /tmp | grep -c half")).stdoutText().trim().equals("0"));
        assertThatThrownBy(() -> s.client().stat(s.sharedId(), "/tmp/half.bin")).isInstanceOf(BasaltException.NotFound.class);
    }

    @Test
    void fileMetadataOperations(GrpcVms.Stack s) {
        var c = s.client();
        String id = s.sharedId();
        c.mkdir(id, "/tmp/meta/sub");
        c.writeFile(id, "/tmp/meta/a.txt", new ByteArrayInputStream("abc".getBytes()), 0640);
        FileInfo a = c.stat(id, "/tmp/meta/a.txt");
        assertThat(a.type()).isEqualTo(FileType.FILE);
        assertThat(a.size()).isEqualTo(3);
        assertThat(a.mode()).isEqualTo(0640);
        assertThat(c.listFiles(id, "/tmp/meta")).extracting(FileInfo::name).containsExactly("a.txt", "sub");
        c.rename(id, "/tmp/meta/a.txt", "/tmp/meta/sub/b.txt");
        assertThat(c.listFiles(id, "/tmp/meta/sub")).extracting(FileInfo::name).containsExactly("b.txt");
        assertThatThrownBy(() -> c.stat(id, "/tmp/meta/a.txt")).isInstanceOf(BasaltException.NotFound.class);
        assertThatThrownBy(() -> c.stat(id, "relative/path")).isInstanceOf(BasaltException.InvalidArgument.class)
                .hasMessageContaining("absolute");
        c.removeFile(id, "/tmp/meta", true);
        assertThatThrownBy(() -> c.stat(id, "/tmp/meta")).isInstanceOf(BasaltException.NotFound.class);
    }

    @Test
    void cancellingAFloodingRunKillsTheGuestProcess(GrpcVms.Stack s) {
        AtomicLong received = new AtomicLong();
        assertThatThrownBy(() -> s.client().exec(s.sharedId(), ExecRequest.of("head", "-c", "524288000", "/dev/zero"), new ExecOutput() {
            @Override public void stdout(byte[] chunk) {
                if (received.addAndGet(chunk.length) > (4 << 20)) {
                    throw new IllegalStateException("client gives up");
                }
            }
            @Override public void stderr(byte[] chunk) { }
        })).hasMessage("client gives up");
        assertThat(received.get()).isLessThan(100L << 20);
        await(() -> !s.client().exec(s.sharedId(), ExecRequest.of("sh", "-c", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '"))
                .stdoutText().contains("head -c 524288000"));
        assertThat(s.client().exec(s.sharedId(), ExecRequest.of("echo", "still here")).stdoutText()).isEqualTo("still here\n");
        await(() -> s.client().inspect(s.sharedId()).execsInFlight() == 0);
    }

    @Test
    void cancellingASilentRunKillsTheGuestProcess(GrpcVms.Stack s) throws Exception {
        String id = s.sharedId();
        io.grpc.Context.CancellableContext call = io.grpc.Context.current().withCancellation();
        var run = java.util.concurrent.CompletableFuture.runAsync(
                () -> call.run(() -> s.client().exec(id, ExecRequest.of("sleep", "1000"))));
        await(() -> guestCommandLines(s, id).contains("sleep 1000"));
        call.cancel(null);
        assertThatThrownBy(run::get).hasCauseInstanceOf(BasaltException.Unavailable.class);
        await(() -> !guestCommandLines(s, id).contains("sleep 1000"));
        await(() -> s.client().inspect(id).execsInFlight() == 0);
    }

    private static String guestCommandLines(GrpcVms.Stack s, String id) {
        return s.client().exec(id, ExecRequest.of("sh", "-c", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '"))
                .stdoutText();
    }

    @Test
    void checkpointRestoreForkAndTheirErrors(GrpcVms.Stack s) {
        var c = s.client();
        String id = s.sharedId();
        c.writeFile(id, "/tmp/mark", new ByteArrayInputStream("before".getBytes()), 0644);
        await(() -> c.inspect(id).state() == SandboxState.READY);
        SnapshotInfo snap = c.checkpoint(id, "grpc-snap");
        assertThat(snap.sourceSandbox()).isEqualTo(id);
        assertThat(c.snapshots()).extracting(SnapshotInfo::name).contains("grpc-snap");
        assertThatThrownBy(() -> c.checkpoint(id, "grpc-snap")).isInstanceOf(BasaltException.AlreadyExists.class)
                .hasMessageContaining("grpc-snap");
        SandboxInfo restored = c.restore("grpc-snap", Map.of("from", "grpc"));
        List<SandboxInfo> forks = c.fork(id, 1);
        try {
            assertThat(restored.labels()).containsEntry("from", "grpc");
            assertThat(new String(readAll(c, restored.id(), "/tmp/mark"))).isEqualTo("before");
            assertThat(forks).hasSize(1);
            assertThat(new String(readAll(c, forks.getFirst().id(), "/tmp/mark"))).isEqualTo("before");
            assertThat(c.list(ListRequest.newBuilder().putLabels("from", "grpc").build()))
                    .extracting(SandboxInfo::id).containsExactly(restored.id());
            // wrong state: a stopped sandbox takes no exec
            assertThat(c.stop(restored.id(), Duration.ofSeconds(5)).state()).isEqualTo(SandboxState.STOPPED);
            assertThatThrownBy(() -> c.exec(restored.id(), ExecRequest.of("true")))
                    .isInstanceOf(BasaltException.WrongState.class);
            assertThat(c.pools()).isNotNull();
        } finally {
            c.remove(restored.id());
            forks.forEach(f -> c.remove(f.id()));
            c.deleteSnapshot("grpc-snap");
        }
        assertThat(c.snapshots()).extracting(SnapshotInfo::name).doesNotContain("grpc-snap");
        assertThatThrownBy(() -> c.restore("grpc-snap", Map.of())).isInstanceOf(BasaltException.NotFound.class);
    }

    @Test
    void errorsOfTheRealManagerComeBackTyped(GrpcVms.Stack s) {
        var c = s.client();
        assertThatThrownBy(() -> c.inspect("000000000000")).isInstanceOf(BasaltException.NotFound.class)
                .hasMessageContaining("000000000000");
        assertThatThrownBy(() -> c.exec("000000000000", ExecRequest.of("true"))).isInstanceOf(BasaltException.NotFound.class);
        assertThatThrownBy(() -> c.create(SandboxSpec.defaults().withMemoryMib(SandboxSpec.MAX_MEMORY_MIB)))
                .isInstanceOf(BasaltException.ResourceExhausted.class);
        assertThatThrownBy(() -> c.create(SandboxSpec.defaults().withImage("no-such-image")))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("no-such-image");
    }

    @Test
    void ttlChangesArriveAsEvents(GrpcVms.Stack s) throws Exception {
        var events = new java.util.concurrent.LinkedBlockingQueue<dev.basalt.api.SandboxEvent>();
        try (AutoCloseable sub = s.client().subscribe(dev.basalt.api.EventFilter.of(s.sharedId()), events::add)) {
            Thread.sleep(200);                       // the subscription reaches the server
            SandboxInfo info = s.client().setTtl(s.sharedId(), Duration.ofDays(1));
            assertThat(info.expiresAt()).isPresent();
            var e = events.poll(10, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(e).isNotNull();
            assertThat(e.kind()).isEqualTo(dev.basalt.api.SandboxEvent.Kind.TTL_CHANGED);
            assertThat(e.sandboxId()).isEqualTo(s.sharedId());
        }
    }

    @Test
    void runOfTrueLatencyThroughGrpcVersusDirect(GrpcVms.Stack s) {
        ExecRequest t = ExecRequest.of("true");
        ExecRequest timed = t.withTimeout(Duration.ofMinutes(1));
        String id = s.sharedId();
        List<Runnable> ways = List.of(
                () -> s.manager().exec(id, t, ExecOutput.discard()),
                () -> s.client().exec(id, timed, ExecOutput.discard()),
                () -> s.client().exec(id, t, ExecOutput.discard()),
                () -> {
                    try (var p = s.manager().start(id, t, ExecOutput.discard())) {
                        p.closeStdin();
                        p.awaitExit(Duration.ofMinutes(1));
                    }
                });
        for (int i = 0; i < 3000; i++) {
            s.client().inspect(id);                  // the JIT compiles the gRPC path (as in a long-running client)
        }
        ways.forEach(w -> { for (int i = 0; i < 20; i++) { w.run(); } });
        int n = 30;
        long[][] times = new long[ways.size()][n];
        for (int i = 0; i < n; i++) {
            for (int w = 0; w < ways.size(); w++) {
                long a = System.nanoTime();
                ways.get(w).run();
                times[w][i] = System.nanoTime() - a;
            }
        }
        double[] median = new double[ways.size()];
        for (int w = 0; w < ways.size(); w++) {
            Arrays.sort(times[w]);
            median[w] = times[w][n / 2] / 1e6;
        }
        log.info("Run of `true`, median of {}: direct exec {} ms; gRPC Run with a timeout (port exec) {} ms (+{} ms); "
                + "without (port start) {} ms (+{} ms); direct start {} ms", n, median[0], median[1], median[1] - median[0],
                median[2], median[2] - median[0], median[3]);
    }

    private static byte[] readAll(RemoteSandboxes c, String id, String path) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        c.readFile(id, path, out);
        return out.toByteArray();
    }

    static void await(java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("condition not met within 30 s").isLessThan(deadline);
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }
}
