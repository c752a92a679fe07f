package dev.basalt.bench;

import dev.basalt.api.PoolStats;
import dev.basalt.core.RunRoot;
import dev.basalt.grpc.RemoteSandboxes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The {@code basalt} command as a shell runs it ({@code bin/basalt}, a fresh JVM per command), timed as
 * a whole process and set beside gVisor's {@code runsc} on the same machine in the same run: each pair
 * alternates (Basalt, peer, Basalt, peer…) so that the machine's drift hits both, and the figure is
 * the median with the ratio of the medians.
 *
 * <ul>
 *   <li>{@code basalt exec ID -- true} through basaltd, beside {@code runsc exec};
 *   <li>{@code basalt run -- true} through basaltd with a warm pool, beside {@code runsc run};
 *   <li>{@code basalt ls} through basaltd, beside {@code runsc list};
 *   <li>{@code basalt run -- true} embedded (no daemon: the JVM boots the manager and clones the template).
 * </ul>
 */
final class CliBench {
    private final Path repo;
    private final Path images;
    private final int runs;

    CliBench(Path repo, Path images, int runs) {
        this.repo = repo;
        this.images = images;
        this.runs = runs;
    }

    void run(Report report) throws Exception {
        Path dir = Files.createTempDirectory("basalt-cli-bench");
        Path shm = Path.of("/dev/shm", dir.getFileName().toString());
        Path socket = dir.resolve("basaltd.sock");
        Process daemon = new ProcessBuilder(basalt(List.of("daemon", "--socket", socket.toString(), "--images",
                images.toString(), "--run-dir", dir.resolve("run").toString(), "--state-dir", dir.resolve("state").toString(),
                "--shm-dir", shm.toString(), "--pool-warm", "2")))
                .redirectErrorStream(true).redirectOutput(dir.resolve("basaltd.log").toFile()).start();
        RunscPeer peer = null;
        try (RemoteSandboxes client = awaitDaemon(daemon, socket, dir.resolve("basaltd.log"))) {
            Map<String, String> viaDaemon = Map.of("BASALT_HOST", "unix:" + socket);
            String id = output(basalt(List.of("create")), viaDaemon).strip();
            if (RunscPeer.available()) {
                peer = RunscPeer.create(Files.createDirectories(dir.resolve("runsc")));
                peer.startLongRunning("bench-exec");
            } else {
                report.note("runsc is not installed: the CLI figures have no peer beside them");
            }
            RunscPeer p = peer;
            Settle settle = () -> awaitWarm(client);          // every sample starts with the pool full and idle
            pair(report, "CLI: `basalt exec ID -- true` via basaltd", "≤ 0.20 s", 0.20, settle,
                    () -> time(basalt(List.of("exec", id, "--", "true")), viaDaemon),
                    p == null ? null : () -> time(p.execTrue("bench-exec"), Map.of()), "runsc exec");
            int[] n = {0};
            pair(report, "CLI: `basalt run -- true` via basaltd, warm pool", "≤ 0.30 s", 0.30, settle,
                    () -> time(basalt(List.of("run", "--", "true")), viaDaemon),
                    p == null ? null : () -> time(p.runTrue("bench-run-" + n[0]++), Map.of()), "runsc run");
            pair(report, "CLI: `basalt ls` via basaltd", "≤ 0.20 s", 0.20, settle,
                    () -> time(basalt(List.of("ls")), viaDaemon),
                    p == null ? null : () -> time(p.list(), Map.of()), "runsc list");
            output(basalt(List.of("rm", id)), viaDaemon);
            pair(report, "CLI: `basalt run -- true` embedded (no daemon)", "reported", null, settle,
                    () -> time(basalt(List.of("-H", "embedded", "run", "--", "true")), Map.of()),
                    p == null ? null : () -> time(p.runTrue("bench-run-" + n[0]++), Map.of()), "runsc run");
        } finally {
            if (peer != null) {
                peer.close();
            }
            daemon.destroy();                                  // SIGTERM; the sandboxes were removed above
            if (!daemon.waitFor(20, TimeUnit.SECONDS)) {
                daemon.destroyForcibly();
            }
            RunRoot.deleteTree(shm);
            RunRoot.deleteTree(dir);
        }
    }

    /** One figure, alternating with its peer; prints and reports the medians and their ratio. */
    private void pair(Report report, String metric, String target, Double limit, Settle settle, Timed basalt, Timed peer,
                      String peerName) throws Exception {
        settle.await();
        basalt.seconds();                                      // warm-up: page cache, the CLI's start-up cache
        if (peer != null) {
            settle.await();
            peer.seconds();
        }
        List<Double> ours = new ArrayList<>();
        List<Double> theirs = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            settle.await();
            ours.add(basalt.seconds());
            if (peer != null) {
                settle.await();
                theirs.add(peer.seconds());
            }
        }
        double median = Stats.of(ours).median();
        String value = String.format("%.3f s", median);
        if (peer != null) {
            double peerMedian = Stats.of(theirs).median();
            value += String.format(" (%s %.3f s, %.1fx)", peerName, peerMedian, median / peerMedian);
        }
        report.add(metric, value, target, limit == null ? null : median <= limit);
    }

    /** What runs, untimed, before each sample. */
    @FunctionalInterface
    private interface Settle {
        void await() throws Exception;
    }

    @FunctionalInterface
    private interface Timed {
        double seconds() throws Exception;
    }

    private List<String> basalt(List<String> args) {
        List<String> argv = new ArrayList<>(List.of(repo.resolve("bin/basalt").toString()));
        argv.addAll(args);
        return argv;
    }

    /** Wall seconds of one whole process (output discarded); fails unless it exits 0. */
    private static double time(List<String> argv, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(argv).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.PIPE);
        pb.environment().putAll(env);
        long start = System.nanoTime();
        Process p = pb.start();
        byte[] err = p.getErrorStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", argv) + " failed: " + new String(err, StandardCharsets.UTF_8));
        }
        return (System.nanoTime() - start) / 1e9;
    }

    private static String output(List<String> argv, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", argv) + " exited " + p.exitValue());
        }
        return out;
    }

    private static RemoteSandboxes awaitDaemon(Process daemon, Path socket, Path log) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (!Files.exists(socket)) {
            if (!daemon.isAlive() || System.nanoTime() > deadline) {
                throw new IOException("basaltd did not start: " + Files.readString(log));
            }
            Thread.sleep(50);
        }
        return RemoteSandboxes.unixSocket(socket);
    }

    /**
     * Waits until every warm pool is full (so that a timed `run` takes a pooled sandbox and no refill
     * competes with the next sample), then 200 ms more for the refill's last steps to settle.
     */
    private static void awaitWarm(RemoteSandboxes client) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            List<PoolStats> pools = client.pools();
            if (!pools.isEmpty() && pools.stream().allMatch(s -> s.warmReady() >= s.warmTarget())) {
                break;
            }
            Thread.sleep(50);
        }
        Thread.sleep(200);
    }
}
