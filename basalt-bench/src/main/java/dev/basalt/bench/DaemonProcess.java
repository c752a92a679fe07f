package dev.basalt.bench;

import dev.basalt.core.RunRoot;
import dev.basalt.grpc.RemoteSandboxes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real basaltd in a process of its own, on private directories (socket, run, state, shm), with
 * its output in a log file: started, killed with SIGKILL, started again on the same state.
 * {@link #close()} kills it and every VM under its run directory, and deletes the directories.
 */
final class DaemonProcess implements AutoCloseable {
    private final Path dir;
    private final Path socket;
    private final Path log;
    private final Path shm;
    private final Path images;
    private final List<String> jvmOptions;
    private Process process;

    /** Its directories; nothing runs until {@link #start}. {@code jvmOptions}: e.g. a heap cap. */
    DaemonProcess(Path images, List<String> jvmOptions) throws IOException {
        this.dir = Files.createTempDirectory("basaltd-");
        this.socket = dir.resolve("basaltd.sock");
        this.log = dir.resolve("basaltd.log");
        this.shm = Path.of("/dev/shm", dir.getFileName().toString());
        this.images = images;
        this.jvmOptions = List.copyOf(jvmOptions);
    }

    /** Starts basaltd with {@code moreJvmOptions} too, and waits (up to a minute) until it listens. */
    DaemonProcess start(String... moreJvmOptions) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElseThrow());
        command.addAll(jvmOptions);
        command.addAll(List.of(moreJvmOptions));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.basalt.server.Main",
                "--socket", socket.toString(), "--images", images.toString(), "--run-dir", runDir().toString(),
                "--state-dir", dir.resolve("state").toString(), "--shm-dir", shm.toString()));
        Files.deleteIfExists(socket);
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (!Files.exists(socket)) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("basaltd did not start: " + logText());
            }
            Thread.sleep(10);
        }
        return this;
    }

    /** A client of it (close it). */
    RemoteSandboxes client() {
        return RemoteSandboxes.unixSocket(socket);
    }

    /** SIGKILL, and waits until it is gone. */
    void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    boolean isAlive() {
        return process != null && process.isAlive();
    }

    long pid() {
        return process.pid();
    }

    Path runDir() {
        return dir.resolve("run");
    }

    /** Everything it has written so far. */
    String logText() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** Waits (up to {@code timeout}) until its log holds {@code text}. */
    boolean awaitLog(String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (logText().contains(text)) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    @Override
    public void close() throws Exception {
        kill();
        String run = runDir() + "/";   // VMs left only if a step failed: found by their run directory
        ProcessHandle.allProcesses()
                .filter(p -> p.info().arguments().map(a -> String.join(" ", a).contains(run)).orElse(false))
                .forEach(ProcessHandle::destroyForcibly);
        RunRoot.deleteTree(dir);
        RunRoot.deleteTree(shm);
    }

}
