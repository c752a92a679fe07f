package dev.basalt.bench;

import dev.basalt.api.ExecOutput;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.core.SandboxManager;
import dev.basalt.grpc.RemoteSandboxes;
import dev.basalt.server.BasaltServer;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * basaltd's figures, in one run against one manager: the overhead of a Run of {@code true} through a
 * basaltd on a unix socket over the embedded API (samples interleaved, so both see the same machine),
 * and 50 concurrent clients, each with its own connection, creating from the template, running a
 * command and removing the sandbox.
 */
final class GrpcBench {
    private static final int SAMPLES = 60;
    private static final int CLIENTS = 50;
    private static final int ROUNDS = 2;

    private final SandboxManager manager;

    GrpcBench(SandboxManager manager) {
        this.manager = manager;
    }

    void run(Report report) throws Exception {
        Path dir = Files.createTempDirectory("basalt-grpc-bench");
        Path socket = dir.resolve("basaltd.sock");
        String name = "basalt-bench-" + ProcessHandle.current().pid();
        try (BasaltServer server = BasaltServer.onUnixSocket(socket, manager).start();
             BasaltServer inProcess = new BasaltServer(InProcessServerBuilder.forName(name), manager).start();
             RemoteSandboxes overSocket = RemoteSandboxes.unixSocket(socket);
             RemoteSandboxes local = new RemoteSandboxes(InProcessChannelBuilder.forName(name).build())) {
            runOverhead(report, overSocket, local);
            runConcurrentClients(report, socket);
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    private void runOverhead(Report report, RemoteSandboxes overSocket, RemoteSandboxes local) {
        SandboxInfo sandbox = manager.create(SandboxSpec.defaults());
        String id = sandbox.id();
        try {
            ExecRequest plain = ExecRequest.of("true");
            ExecRequest timed = plain.withTimeout(Duration.ofMinutes(1));
            List<Supplier<Object>> ways = List.of(
                    () -> manager.exec(id, plain),
                    () -> local.exec(id, plain),
                    () -> overSocket.exec(id, plain),
                    () -> manager.exec(id, timed, ExecOutput.discard()),
                    () -> local.exec(id, timed, ExecOutput.discard()),
                    () -> overSocket.exec(id, timed, ExecOutput.discard()));
            for (int i = 0; i < 3000; i++) {
                local.inspect(id);                      // a long-running client: the JIT has compiled the gRPC path
                overSocket.inspect(id);
            }
            for (int i = 0; i < 30; i++) {
                ways.forEach(Supplier::get);
            }
            List<List<Double>> samples = new ArrayList<>();
            ways.forEach(w -> samples.add(new ArrayList<>()));
            for (int i = 0; i < SAMPLES; i++) {
                for (int w = 0; w < ways.size(); w++) {
                    long start = System.nanoTime();
                    ways.get(w).get();
                    samples.get(w).add((System.nanoTime() - start) / 1e6);
                }
            }
            double[] m = samples.stream().mapToDouble(l -> Stats.of(l).median()).toArray();
            report.add("Run of `true`: embedded API (exec)", String.format("%.2f ms", m[0]), "report", null);
            report.add("  gRPC overhead, in-process basaltd", String.format("%+.2f ms", m[1] - m[0]), "≤ 1 ms", m[1] - m[0] <= 1.0);
            report.add("  gRPC overhead, basaltd on a unix socket", String.format("%+.2f ms", m[2] - m[0]), "≤ 1 ms",
                    m[2] - m[0] <= 1.0);
            report.add("  the same with a timeout (in-process; unix socket)", String.format("%+.2f; %+.2f ms", m[4] - m[3], m[5] - m[3]),
                    "≤ 1 ms", m[4] - m[3] <= 1.0 && m[5] - m[3] <= 1.0);
            report.note(String.format("gRPC overhead: medians of %d interleaved samples of each way after a warm-up; basaltd runs "
                    + "both through the port's streamed exec (the embedded figure of the one with a timeout is %.2f ms).",
                    SAMPLES, m[3]));
        } finally {
            manager.remove(id);
        }
    }

    private void runConcurrentClients(Report report, Path socket) throws Exception {
        manager.remove(manager.create(SandboxSpec.defaults()).id());          // the template exists before the clock starts
        AtomicInteger errors = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        List<Double> cycles = java.util.Collections.synchronizedList(new ArrayList<>());
        long start = System.nanoTime();
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                clients.add(executor.submit(() -> {
                    try (RemoteSandboxes client = RemoteSandboxes.unixSocket(socket)) {
                        for (int r = 0; r < ROUNDS; r++) {
                            long t0 = System.nanoTime();
                            String id = null;
                            try {
                                id = client.create(SandboxSpec.defaults()).id();
                                if (!client.exec(id, ExecRequest.of("echo", "ok")).stdoutText().equals("ok\n")) {
                                    throw new IllegalStateException("wrong output");
                                }
                                client.remove(id);
                                id = null;
                                cycles.add((System.nanoTime() - t0) / 1e6);
                                done.incrementAndGet();
                            } catch (RuntimeException e) {
                                errors.incrementAndGet();
                                System.err.println("grpc bench client failed: " + e);
                                if (id != null) {
                                    try {
                                        client.remove(id);
                                    } catch (RuntimeException ignored) {
                                        // reported above
                                    }
                                }
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : clients) {
                f.get();
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        report.add(CLIENTS + " clients × " + ROUNDS + " create-from-template + exec + remove",
                String.format("%.1f /s", done.get() / seconds), "0 errors", errors.get() == 0 && done.get() == CLIENTS * ROUNDS);
        report.add("  errors; median cycle", String.format("%d; %.0f ms", errors.get(),
                cycles.isEmpty() ? Double.NaN : Stats.of(cycles).median()), "report", null);
    }
}
