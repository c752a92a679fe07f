package dev.basalt.server;

import static dev.basalt.server.GrpcSandboxTest.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.basalt.api.ExecOutput;
import dev.basalt.api.ExecRequest;
import dev.basalt.grpc.RemoteSandboxes;
import dev.basalt.grpc.v1.CheckpointRequest;
import dev.basalt.grpc.v1.Command;
import dev.basalt.grpc.v1.ConsoleLogRequest;
import dev.basalt.grpc.v1.CreateRequest;
import dev.basalt.grpc.v1.ExecResponse;
import dev.basalt.grpc.v1.ExecStart;
import dev.basalt.grpc.v1.InspectRequest;
import dev.basalt.grpc.v1.ListRequest;
import dev.basalt.grpc.v1.PingRequest;
import dev.basalt.grpc.v1.RestoreRequest;
import dev.basalt.grpc.v1.RunRequest;
import dev.basalt.grpc.v1.RunResponse;
import dev.basalt.grpc.v1.SandboxServiceGrpc;
import dev.basalt.grpc.v1.SandboxSpec;
import dev.basalt.grpc.v1.SnapshotServiceGrpc;
import dev.basalt.grpc.v1.StopRequest;
import dev.basalt.grpc.v1.UploadHeader;
import dev.basalt.grpc.v1.UploadRequest;
import dev.basalt.grpc.v1.UploadResponse;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bad input on the wire, through a real unix socket: malformed requests, an oversized message, 1000
 * concurrent calls, clients that vanish mid-stream, a slow reader of a flood. Each time the answer is a
 * clear status, memory and threads stay bounded, and the daemon (and the sandbox) go on serving.
 */
@ExtendWith(GrpcVms.class)
class BadInputTest {
    private static final Logger log = LoggerFactory.getLogger(BadInputTest.class);

    @TempDir
    static Path dir;
    static Path socket;
    static BasaltServer server;
    static GrpcVms.Stack stack;

    @BeforeAll
    static void serve(GrpcVms.Stack s) {
        stack = s;
        socket = dir.resolve("bad.sock");
        server = BasaltServer.onUnixSocket(socket, s.manager()).start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static ManagedChannel channel() {
        return Grpc.newChannelBuilder("unix://" + socket, InsecureChannelCredentials.create()).build();
    }

    private static void assertStatus(Supplier<?> call, Status.Code code, String message) {
        Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(call::get);
        if (thrown instanceof java.util.concurrent.CompletionException c) {
            thrown = c.getCause();
        }
        assertThat(thrown).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(message);
        });
    }

    private static void assertServing(ManagedChannel channel) {
        var stub = SandboxServiceGrpc.newBlockingStub(channel);
        assertThat(stub.inspect(InspectRequest.newBuilder().setId(stack.sharedId()).build()).getId()).isEqualTo(stack.sharedId());
        assertThat(stack.client().exec(stack.sharedId(), ExecRequest.of("echo", "ok")).stdoutText()).isEqualTo("ok\n");
    }

    @Test
    void malformedRequestsAreInvalidArgumentWithTheReason() {
        ManagedChannel channel = channel();
        try {
            var stub = SandboxServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
            assertStatus(() -> stub.inspect(InspectRequest.getDefaultInstance()), Status.Code.INVALID_ARGUMENT, "sandbox id is empty");
            assertStatus(() -> stub.inspect(InspectRequest.newBuilder().setId("a b\n").build()), Status.Code.INVALID_ARGUMENT,
                    "malformed");
            assertStatus(() -> stub.stop(StopRequest.getDefaultInstance()), Status.Code.INVALID_ARGUMENT, "sandbox id is empty");
            assertStatus(() -> stub.create(CreateRequest.newBuilder().setSpec(SandboxSpec.newBuilder().setVcpus(-1)).build()),
                    Status.Code.INVALID_ARGUMENT, "vcpus");
            assertStatus(() -> stub.create(CreateRequest.newBuilder().setSpec(SandboxSpec.newBuilder().setMemoryMib(-256)).build()),
                    Status.Code.INVALID_ARGUMENT, "memory");
            assertStatus(() -> stub.create(CreateRequest.newBuilder().setSpec(SandboxSpec.newBuilder().putLabels("bad key!", "v")).build()),
                    Status.Code.INVALID_ARGUMENT, "label key 'bad key!'");
            assertStatus(() -> stub.consoleLog(ConsoleLogRequest.newBuilder().setId(stack.sharedId()).setMaxBytes(-1).build()),
                    Status.Code.INVALID_ARGUMENT, "max_bytes");
            assertStatus(() -> stub.ping(PingRequest.newBuilder().setId(stack.sharedId())
                    .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(-1)).build()), Status.Code.INVALID_ARGUMENT, "timeout");
            assertStatus(() -> stub.run(RunRequest.newBuilder().setId(stack.sharedId()).build()).next(),
                    Status.Code.INVALID_ARGUMENT, "argv");
            assertStatus(() -> stub.run(RunRequest.newBuilder().setCommand(Command.newBuilder().addArgv("true")).build()).next(),
                    Status.Code.INVALID_ARGUMENT, "sandbox id is empty");
            var snapshots = SnapshotServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
            assertStatus(() -> snapshots.restore(RestoreRequest.getDefaultInstance()), Status.Code.INVALID_ARGUMENT,
                    "snapshot name is empty: give the snapshot name (basalt snapshots lists them)");
            assertStatus(() -> snapshots.checkpoint(CheckpointRequest.newBuilder().setId(stack.sharedId()).build()),
                    Status.Code.INVALID_ARGUMENT, "snapshot name is empty");

            var async = SandboxServiceGrpc.newStub(channel);
            CompletableFuture<Void> upload = new CompletableFuture<>();
            StreamObserver<UploadRequest> up = async.upload(completing(upload));
            up.onNext(UploadRequest.newBuilder().setHeader(UploadHeader.newBuilder().setId(stack.sharedId())
                    .setPath("/tmp/m").setMode(0777777)).build());
            up.onCompleted();
            assertStatus(() -> upload.join(), Status.Code.INVALID_ARGUMENT, "07777");

            CompletableFuture<Void> exec = new CompletableFuture<>();
            StreamObserver<dev.basalt.grpc.v1.ExecRequest> ex = async.exec(completing(exec));
            ex.onNext(dev.basalt.grpc.v1.ExecRequest.newBuilder().setStdin(ByteString.copyFromUtf8("x")).build());
            assertStatus(() -> exec.join(), Status.Code.INVALID_ARGUMENT, "first Exec message must be 'start'");
            ex.onCompleted();
            assertServing(channel);
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void anOversizedMessageIsResourceExhaustedAndTheServerStaysUp() {
        ManagedChannel channel = channel();
        try {
            var stub = SandboxServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
            byte[] big = new byte[BasaltServer.MAX_INBOUND_MESSAGE_BYTES + 1024];
            assertStatus(() -> stub.run(RunRequest.newBuilder().setId(stack.sharedId()).setCommand(Command.newBuilder()
                    .addArgv("cat").setStdin(ByteString.copyFrom(big))).build()).next(), Status.Code.RESOURCE_EXHAUSTED, "");
            var async = SandboxServiceGrpc.newStub(channel);
            CompletableFuture<Void> upload = new CompletableFuture<>();
            StreamObserver<UploadRequest> up = async.upload(completing(upload));
            up.onNext(UploadRequest.newBuilder().setHeader(UploadHeader.newBuilder().setId(stack.sharedId()).setPath("/tmp/big")).build());
            up.onNext(UploadRequest.newBuilder().setChunk(ByteString.copyFrom(big)).build());
            up.onCompleted();
            assertStatus(() -> upload.join(), Status.Code.RESOURCE_EXHAUSTED, "");
            assertServing(channel);
            await(() -> stack.client().exec(stack.sharedId(), ExecRequest.of("sh", "-c", "ls -a /tmp | grep -c big")).stdoutText()
                    .trim().equals("0"));
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void thousandConcurrentCheapCallsAllSucceedWithBoundedThreads() throws Exception {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        int before = threads.getThreadCount();
        ManagedChannel channel = channel();
        try {
            var stub = SandboxServiceGrpc.newFutureStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS);
            List<com.google.common.util.concurrent.ListenableFuture<?>> calls = new ArrayList<>();
            AtomicInteger peak = new AtomicInteger(before);
            long t0 = System.nanoTime();
            for (int i = 0; i < 1000; i++) {
                calls.add(switch (i % 3) {
                    case 0 -> stub.inspect(InspectRequest.newBuilder().setId(stack.sharedId()).build());
                    case 1 -> stub.ping(PingRequest.newBuilder().setId(stack.sharedId()).build());
                    default -> stub.list(ListRequest.getDefaultInstance());
                });
                if (i % 50 == 0) {
                    peak.accumulateAndGet(threads.getThreadCount(), Math::max);
                }
            }
            int failures = 0;
            for (var call : calls) {
                while (!call.isDone()) {
                    peak.accumulateAndGet(threads.getThreadCount(), Math::max);
                    Thread.sleep(5);
                }
                try {
                    call.get();
                } catch (Exception e) {
                    failures++;
                    log.warn("concurrent call failed: {}", e.toString());
                }
            }
            log.info("1000 concurrent calls in {} ms; platform threads {} before, {} at the peak", (System.nanoTime() - t0) / 1_000_000,
                    before, peak.get());
            assertThat(failures).isZero();
            assertThat(peak.get() - before).as("platform threads added").isLessThan(64);
            assertServing(channel);
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void aClientThatDisconnectsMidRunOrMidUploadLeavesNothingBehind() throws Exception {
        for (Command command : List.of(
                Command.newBuilder().addArgv("sh").addArgv("-c").addArgv("echo started; exec sleep 1001").build(),
                Command.newBuilder().addArgv("sh").addArgv("-c").addArgv("echo started; exec yes 1002")
                        .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(600)).build())) {
            ManagedChannel channel = channel();
            CountDownLatch started = new CountDownLatch(1);
            SandboxServiceGrpc.newStub(channel).run(RunRequest.newBuilder().setId(stack.sharedId()).setCommand(command).build(),
                    new StreamObserver<>() {
                        @Override public void onNext(RunResponse r) { started.countDown(); }
                        @Override public void onError(Throwable t) { }
                        @Override public void onCompleted() { }
                    });
            assertThat(started.await(60, TimeUnit.SECONDS)).isTrue();
            String marker = command.getArgv(2).substring(command.getArgv(2).indexOf("exec ") + 5);
            assertThat(guestProcesses()).contains(marker);
            channel.shutdownNow();                                       // the client vanishes
            await(() -> !guestProcesses().contains(marker));
        }

        ManagedChannel channel = channel();
        CompletableFuture<Void> upload = new CompletableFuture<>();
        StreamObserver<UploadRequest> up = SandboxServiceGrpc.newStub(channel).upload(completing(upload));
        up.onNext(UploadRequest.newBuilder().setHeader(UploadHeader.newBuilder().setId(stack.sharedId()).setPath("/tmp/vanish/half.bin")).build());
        for (int i = 0; i < 3; i++) {
            up.onNext(UploadRequest.newBuilder().setChunk(ByteString.copyFrom(new byte[1 << 20])).build());
        }
        Thread.sleep(500);
        channel.shutdownNow();                                           // mid-upload, never half-closed
        await(() -> stack.client().exec(stack.sharedId(), ExecRequest.of("sh", "-c", "ls -a /tmp/vanish 2>/dev/null | grep -c half"))
                .stdoutText().trim().equals("0"));
        await(() -> stack.client().inspect(stack.sharedId()).execsInFlight() == 0);
        assertServing(channel());
    }

    @Test
    void aCreateWhoseClientVanishesLeavesNoSandbox() throws Exception {
        ManagedChannel channel = channel();
        var pending = SandboxServiceGrpc.newFutureStub(channel).create(CreateRequest.newBuilder().setWait(true)
                .setSpec(SandboxSpec.newBuilder().setColdBoot(true).putLabels("vanish", "create")).build());
        await(() -> stack.manager().list().stream().anyMatch(i -> "create".equals(i.labels().get("vanish"))));
        channel.shutdownNow();                                           // mid-boot
        assertThatThrownBy(pending::get).isInstanceOf(java.util.concurrent.ExecutionException.class);
        await(() -> stack.manager().list().stream().noneMatch(i -> "create".equals(i.labels().get("vanish"))));
    }

    @Test
    void aSlowReaderOfAFloodKeepsMemoryBounded() {
        Runtime rt = Runtime.getRuntime();
        System.gc();
        long baseline = rt.totalMemory() - rt.freeMemory();
        AtomicLong peak = new AtomicLong(baseline);
        AtomicLong received = new AtomicLong();
        AtomicInteger chunks = new AtomicInteger();
        long began = System.nanoTime();
        try (RemoteSandboxes slow = RemoteSandboxes.unixSocket(socket)) {
            assertThatThrownBy(() -> slow.exec(stack.sharedId(), ExecRequest.of("cat", "/dev/zero"), new ExecOutput() {
                @Override
                public void stdout(byte[] chunk) {
                    received.addAndGet(chunk.length);
                    sleep(20);                                   // ~50 chunks a second: far slower than the guest
                    if (chunks.incrementAndGet() % 25 == 0) {
                        System.gc();
                        peak.accumulateAndGet(rt.totalMemory() - rt.freeMemory(), Math::max);
                    }
                    if (System.nanoTime() - began > Duration.ofSeconds(5).toNanos()) {
                        throw new IllegalStateException("reader done");
                    }
                }

                @Override
                public void stderr(byte[] chunk) { }
            })).hasMessage("reader done");
        }
        long grown = peak.get() - baseline;
        log.info("slow reader: {} KiB in {} chunks over 5 s; heap grew by at most {} KiB", received.get() >> 10, chunks.get(), grown >> 10);
        assertThat(grown).as("heap growth while a slow client reads a flood").isLessThan(64L << 20);
        await(() -> !guestProcesses().contains("cat /dev/zero"));
        assertServing(channel());
    }

    private static String guestProcesses() {
        return stack.manager().exec(stack.sharedId(), ExecRequest.of("sh", "-c", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '"))
                .stdoutText();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static <T> StreamObserver<T> completing(CompletableFuture<Void> done) {
        return new StreamObserver<>() {
            @Override public void onNext(T value) { }
            @Override public void onError(Throwable t) { done.completeExceptionally(t); }
            @Override public void onCompleted() { done.complete(null); }
        };
    }
}
