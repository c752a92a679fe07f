package dev.basalt.bench;

import dev.basalt.api.ExecRequest;
import dev.basalt.api.ImageInfo;
import dev.basalt.api.PullRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.core.ManagerConfig;
import dev.basalt.core.SandboxManager;
import dev.basalt.image.ImageStore;
import dev.basalt.image.debian.DebianBuilder;
import dev.basalt.image.debian.DebianRecipe;
import dev.basalt.image.fs.Ext4Builder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Real root file systems: clones of {@code base} against the busybox image, python3 in a ready
 * sandbox beside gVisor's {@code runsc exec} of the same root, the disk's throughput with fsync,
 * the host disk and memory of 20 clones, {@code base} built cold and cached, and a pull from a
 * registry on loopback.
 */
final class ImageBench {
    private static final int SAMPLES = 7;
    private final SandboxManager manager;
    private final ManagerConfig config;
    private final Path work;

    ImageBench(SandboxManager manager, ManagerConfig config, Path work) {
        this.manager = manager;
        this.config = config;
        this.work = work;
    }

    void run(Report report) throws Exception {
        long t0 = System.nanoTime();
        ImageInfo base = manager.images().ensureBase(line -> System.out.println("  " + line));
        double ensure = (System.nanoTime() - t0) / 1e9;
        report.add("`base` ready in the store (cached, or built now)", String.format("%.2f s", ensure), "report", null);
        clones(report);
        python(report, base);
        disk(report);
        twentyClones(report);
        coldBuild(report);
        pull(report, base);
    }

    private void clones(Report report) {
        SandboxSpec busybox = SandboxSpec.defaults();
        SandboxSpec base = SandboxSpec.defaults().withImage("base");
        manager.remove(manager.create(busybox).id());      // both templates made before timing
        manager.remove(manager.create(base).id());
        List<Double> b = new ArrayList<>();
        List<Double> d = new ArrayList<>();
        for (int i = 0; i < SAMPLES; i++) {
            b.add(Timing.createToFirstExecMillis(manager, () -> manager.create(busybox)));
            d.add(Timing.createToFirstExecMillis(manager, () -> manager.create(base)));
        }
        double ratio = Stats.of(d).median() / Stats.of(b).median();
        report.add("template clone → first exec, `base` (busybox in the same run)", String.format(
                "%.0f ms (%.0f ms), %.2fx", Stats.of(d).median(), Stats.of(b).median(), ratio), "≤ 1.3x", ratio <= 1.3);
    }

    private void python(Report report, ImageInfo base) throws Exception {
        SandboxInfo s = manager.create(SandboxSpec.defaults().withImage("base"));
        List<Double> basalt = new ArrayList<>();
        try {
            manager.exec(s.id(), ExecRequest.of("python3", "-c", "print(1)"));
            for (int i = 0; i < SAMPLES; i++) {
                long start = System.nanoTime();
                manager.exec(s.id(), ExecRequest.of("python3", "-c", "print(1)"));
                basalt.add((System.nanoTime() - start) / 1e6);
            }
        } finally {
            manager.remove(s.id());
        }
        double ours = Stats.of(basalt).median();
        Double runsc = runscExec(base);
        report.add("ready `base` sandbox → `python3 -c 'print(1)'` answered", runsc == null
                ? String.format("%.0f ms (runsc not installed)", ours)
                : String.format("%.0f ms; runsc exec %.0f ms (%.2fx)", ours, runsc, ours / runsc), "report", null);
    }

    /** gVisor ({@code runsc}, ptrace platform) running python3 in the same root file system; null without runsc. */
    private Double runscExec(ImageInfo base) throws Exception {
        if (!Files.isExecutable(Path.of("/usr/bin/runsc"))) {
            return null;
        }
        Path bundle = Files.createDirectories(work.resolve("runsc-bundle"));
        Path rootfs = bundle.resolve("rootfs");
        String id = "basalt-bench-" + ProcessHandle.current().pid();
        try {
            Files.createDirectories(rootfs);
            run(List.of("debugfs", "-R", "rdump / " + rootfs, manager.images().store().rootfs(base).toString()), bundle);
            run(List.of("runsc", "spec", "--", "sleep", "1000"), bundle);
            // detached: its sandbox keeps the output pipes open, so nothing is read from them
            Process detach = new ProcessBuilder("runsc", "--network=none", "--platform=ptrace", "run", "-detach", id)
                    .directory(bundle.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            if (!detach.waitFor(2, TimeUnit.MINUTES) || detach.exitValue() != 0) {
                detach.destroyForcibly();
                throw new IOException("runsc run -detach failed");
            }
            List<Double> samples = new ArrayList<>();
            for (int i = 0; i < SAMPLES; i++) {
                long start = System.nanoTime();
                run(List.of("runsc", "--platform=ptrace", "exec", id, "python3", "-c", "print(1)"), bundle);
                samples.add((System.nanoTime() - start) / 1e6);
            }
            return Stats.of(samples).median();
        } finally {
            runQuietly(List.of("runsc", "kill", id, "KILL"), bundle);
            runQuietly(List.of("runsc", "delete", "-force", id), bundle);
            run(List.of("rm", "-rf", bundle.toString()), work);
        }
    }

    private void disk(Report report) {
        SandboxInfo s = manager.create(SandboxSpec.defaults().withImage("base"));
        try {
            String write = manager.exec(s.id(), ExecRequest.of("sh", "-c",
                    "dd if=/dev/zero of=/root/big bs=1M count=256 conv=fsync 2>&1 | tail -1")).stdoutText();
            String read = manager.exec(s.id(), ExecRequest.of("sh", "-c",
                    "echo 3 > /proc/sys/vm/drop_caches; dd if=/root/big of=/dev/null bs=1M 2>&1 | tail -1")).stdoutText();
            double w = mbPerSecond(write);
            double r = mbPerSecond(read);
            report.add("in-guest sequential write of 256 MiB with fsync", String.format("%.0f MB/s", w), "≥ 200 MB/s", w >= 200);
            report.add("in-guest sequential read of 256 MiB (caches dropped)", String.format("%.0f MB/s", r), "≥ 200 MB/s", r >= 200);
        } finally {
            manager.remove(s.id());
        }
    }

    private static double mbPerSecond(String ddLine) {
        Matcher m = Pattern.compile("([0-9.]+) ([MGk])B/s").matcher(ddLine);
        if (!m.find()) {
            return 0;
        }
        double v = Double.parseDouble(m.group(1));
        return switch (m.group(2)) {
            case "G" -> v * 1000;
            case "k" -> v / 1000;
            default -> v;
        };
    }

    private void twentyClones(Report report) throws IOException {
        List<SandboxInfo> clones = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                clones.add(manager.create(SandboxSpec.defaults().withImage("base")));
            }
            double disk = 0;
            double pss = 0;
            for (SandboxInfo c : clones) {
                disk += allocatedBytes(config.disksDir().resolve("sandboxes").resolve(c.id()));
                pss += Timing.pssMib(c.vmmPid());
            }
            report.add("20 clones of `base` before they write: host disk per clone", String.format("%.0f KiB",
                    disk / 20 / 1024), "≤ 1 MB", disk / 20 <= 1 << 20);
            report.add("  … PSS per clone", String.format("%.1f MiB", pss / 20), "report", null);
        } finally {
            clones.forEach(c -> manager.remove(c.id()));
        }
    }

    /** What a sandbox's own disk files take (the top; layers are links to files others hold). */
    private static double allocatedBytes(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            double sum = 0;
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith("top-")).toList()) {
                Process du = new ProcessBuilder("du", "--block-size=1", "-s", f.toString()).start();
                String out = new String(du.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                sum += Double.parseDouble(out.split("\\s")[0]);
            }
            return sum;
        }
    }

    private void coldBuild(Report report) throws IOException {
        Path storeDir = config.stateDir().resolve("bench-store-" + ProcessHandle.current().pid());
        try {
            ImageStore store = ImageStore.open(storeDir);
            long start = System.nanoTime();
            new DebianBuilder(store, new Ext4Builder()).ensure(DebianRecipe.base(), "base", line -> { });
            double cold = (System.nanoTime() - start) / 1e9;
            start = System.nanoTime();
            new DebianBuilder(store, new Ext4Builder()).ensure(DebianRecipe.base(), "base", line -> { });
            double cached = (System.nanoTime() - start) / 1e3;
            report.add("`base` built with mmdebstrap: cold, then cached", String.format("%.0f s; %.0f µs", cold, cached),
                    "report", null);
        } finally {
            run(List.of("rm", "-rf", storeDir.toString()), work);
        }
    }

    /** Pushes {@code base} as an OCI image to docker-registry on loopback with skopeo, then pulls it. */
    private void pull(Report report, ImageInfo base) throws Exception {
        if (!Files.isExecutable(Path.of("/usr/bin/docker-registry")) || !Files.isExecutable(Path.of("/usr/bin/skopeo"))
                || !Files.isExecutable(Path.of("/usr/bin/umoci"))) {
            report.add("pull of `base` from a registry on loopback", "docker-registry, skopeo or umoci not installed",
                    "report", null);
            return;
        }
        Path dir = Files.createDirectories(work.resolve("registry"));
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Files.writeString(dir.resolve("config.yml"), "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
                + "storage:\n  filesystem:\n    rootdirectory: " + dir.resolve("data") + "\nhttp:\n  addr: 127.0.0.1:" + port + "\n");
        Process registry = new ProcessBuilder("docker-registry", "serve", dir.resolve("config.yml").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("registry.log").toFile()).start();
        try {
            awaitPort(port);
            Path layout = dir.resolve("layout");
            Path bundle = dir.resolve("bundle");
            run(List.of("umoci", "init", "--layout", layout.toString()), dir);
            run(List.of("umoci", "new", "--image", layout + ":base"), dir);
            run(List.of("umoci", "unpack", "--image", layout + ":base", bundle.toString()), dir);
            run(List.of("debugfs", "-R", "rdump / " + bundle.resolve("rootfs"), manager.images().store().rootfs(base).toString()), dir);
            run(List.of("umoci", "repack", "--image", layout + ":base", bundle.toString()), dir);
            run(List.of("skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false", "oci:" + layout + ":base",
                    "docker://127.0.0.1:" + port + "/bench/base:v1"), dir);
            long bytes;
            try (var blobs = Files.walk(layout.resolve("blobs"))) {
                bytes = blobs.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
            }
            long start = System.nanoTime();
            ImageInfo pulled = manager.images().pull(PullRequest.of("127.0.0.1:" + port + "/bench/base:v1")
                    .withName("bench/pulled-base"), line -> { });
            double seconds = (System.nanoTime() - start) / 1e9;
            manager.images().remove(pulled.name());
            report.add("pull of `base` from a registry on loopback (download, layers applied, ext4 made)",
                    String.format("%.1f s for %.0f MB: %.0f MB/s", seconds, bytes / 1e6, bytes / 1e6 / seconds), "report", null);
        } finally {
            registry.destroy();
            registry.waitFor(5, TimeUnit.SECONDS);
            registry.destroyForcibly();
            run(List.of("rm", "-rf", dir.toString()), work);
        }
    }

    private static void awaitPort(int port) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 100);
                return;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
    }

    private static void run(List<String> cmd, Path dir) throws IOException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " failed: " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    private static void runQuietly(List<String> cmd, Path dir) {
        try {
            run(cmd, dir);
        } catch (IOException e) {
            // cleanup of something that may not exist
        }
    }
}
