package dev.basalt.bench;

import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.grpc.RemoteSandboxes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real basaltd with N live sandboxes is killed with SIGKILL and started again: how long until all
 * N answer exec again, and how long the daemon itself spent reattaching.
 */
final class RestartBench {
    private static final Pattern REATTACHED = Pattern.compile("reattached (\\d+) sandbox\\(es\\) in (\\d+) ms");

    private final Path images;
    private final int count;

    RestartBench(Path images, int count) {
        this.images = images;
        this.count = count;
    }

    void run(Report report) throws Exception {
        Path dir = Files.createTempDirectory("basalt-restart-bench");
        Path socket = dir.resolve("basaltd.sock");
        Path log = dir.resolve("basaltd.log");
        Path shm = Path.of("/dev/shm", dir.getFileName().toString());
        List<String> command = List.of(ProcessHandle.current().info().command().orElseThrow(), "-cp",
                System.getProperty("java.class.path"), "dev.basalt.server.Main", "--socket", socket.toString(),
                "--images", images.toString(), "--run-dir", dir.resolve("run").toString(),
                "--state-dir", dir.resolve("state").toString(), "--shm-dir", shm.toString());
        Process daemon = start(command, socket, log);
        List<String> ids = new ArrayList<>();
        try {
            try (RemoteSandboxes client = RemoteSandboxes.unixSocket(socket);
                 var executor = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<SandboxInfo>> created = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    created.add(executor.submit(() -> client.create(SandboxSpec.defaults())));
                }
                for (Future<SandboxInfo> f : created) {
                    ids.add(f.get().id());
                }
            }
            daemon.destroyForcibly();
            daemon.waitFor(10, TimeUnit.SECONDS);

            long start = System.nanoTime();
            daemon = start(command, socket, log);
            int answering = 0;
            try (RemoteSandboxes client = RemoteSandboxes.unixSocket(socket)) {
                for (String id : ids) {
                    answering += client.exec(id, ExecRequest.of("true")).exit().success() ? 1 : 0;
                }
                double total = (System.nanoTime() - start) / 1e6;
                long reattach = reattachMillis(log);
                report.add("basaltd killed with " + count + " sandboxes: reattach after restart",
                        reattach < 0 ? "n/a" : reattach + " ms", "≤ 1 s", reattach >= 0 && reattach <= 1000);
                report.add("  … restart to all " + count + " answering exec (incl. JVM start)",
                        String.format("%d/%d in %.0f ms", answering, count, total), "report", answering == count);
                for (String id : ids) {
                    client.remove(id);
                }
            }
        } finally {
            daemon.destroyForcibly();
            daemon.waitFor(10, TimeUnit.SECONDS);
            for (String id : ids) {   // VMs left only if a step above failed: find them by their run dir
                ProcessHandle.allProcesses()
                        .filter(p -> p.info().arguments().map(a -> String.join(" ", a).contains(dir.resolve("run").resolve(id).toString())).orElse(false))
                        .forEach(ProcessHandle::destroyForcibly);
            }
            deleteTree(dir);
            deleteTree(shm);
        }
    }

    private static Process start(List<String> command, Path socket, Path log) throws Exception {
        Files.deleteIfExists(socket);
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!Files.exists(socket)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("basaltd did not start: " + Files.readString(log));
            }
            Thread.sleep(10);
        }
        return p;
    }

    private static long reattachMillis(Path log) throws IOException {
        Matcher m = REATTACHED.matcher(Files.readString(log));
        long last = -1;
        while (m.find()) {
            last = Long.parseLong(m.group(2));
        }
        return last;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
