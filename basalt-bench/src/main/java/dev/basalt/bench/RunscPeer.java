package dev.basalt.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * gVisor's {@code runsc} (Debian package {@code runsc}, installed by bin/bench) on its ptrace platform,
 * no network, over a busybox OCI bundle this class builds: the peer the CLI's figures are set beside.
 * Its state lives in a private {@code --root}; {@link #close()} kills and deletes what it started.
 */
final class RunscPeer implements AutoCloseable {
    private final Path dir;
    private final Path oneShot;
    private final Path longRunning;
    private final List<String> started = new ArrayList<>();

    private RunscPeer(Path dir) {
        this.dir = dir;
        this.oneShot = dir.resolve("true");
        this.longRunning = dir.resolve("sleep");
    }

    /** True when a runsc binary is on the PATH. */
    static boolean available() {
        try {
            return new ProcessBuilder("runsc", "--version").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Builds the bundles under {@code dir}: a static busybox as the root filesystem, one spec running true, one sleeping. */
    static RunscPeer create(Path dir) throws Exception {
        RunscPeer peer = new RunscPeer(dir);
        Path bin = Files.createDirectories(dir.resolve("rootfs/bin"));
        Files.copy(Path.of("/bin/busybox"), bin.resolve("busybox"));
        for (String applet : List.of("sh", "true", "sleep")) {
            Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
        }
        for (Path bundle : List.of(peer.oneShot, peer.longRunning)) {
            Files.createDirectories(bundle);
            Files.createSymbolicLink(bundle.resolve("rootfs"), dir.resolve("rootfs"));
        }
        peer.command(peer.oneShot, "spec", "--", "/bin/true");
        peer.command(peer.longRunning, "spec", "--", "/bin/sleep", "100000");
        return peer;
    }

    /** {@code runsc [global flags] args...} in {@code cwd}; fails unless it exits 0. */
    private void command(Path cwd, String... args) throws Exception {
        Process p = new ProcessBuilder(argv(args)).directory(cwd.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("runsc " + String.join(" ", args) + " failed");
        }
    }

    /** The command line of {@code runsc args...} with the platform, network and state root of this peer. */
    List<String> argv(String... args) {
        List<String> argv = new ArrayList<>(List.of("runsc", "--network=none", "--platform=ptrace",
                "--root", dir.resolve("state").toString()));
        argv.addAll(List.of(args));
        return argv;
    }

    /** {@code runsc run} of the one-shot bundle (it runs /bin/true and is deleted when it exits). */
    List<String> runTrue(String containerId) {
        return argv("run", "-bundle", oneShot.toString(), containerId);
    }

    /** Starts the long-running container {@code containerId} ({@code run -detach}). */
    void startLongRunning(String containerId) throws Exception {
        command(longRunning, "run", "-detach", "-bundle", longRunning.toString(), containerId);
        started.add(containerId);
    }

    List<String> execTrue(String containerId) {
        return argv("exec", containerId, "/bin/true");
    }

    List<String> list() {
        return argv("list");
    }

    /** Kills and deletes the containers it started. */
    @Override
    public void close() {
        for (String id : started) {
            try {
                command(dir, "kill", id, "KILL");
            } catch (Exception e) {
                // already gone
            }
            try {
                command(dir, "delete", "-force", id);
            } catch (Exception e) {
                System.err.println("bench: cannot delete runsc container " + id + ": " + e.getMessage());
            }
        }
    }
}
