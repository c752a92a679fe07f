package dev.basalt.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

/** basaltd as a real separate process of this test JVM's class path, for the daemon-process tests. */
final class DaemonProcesses {
    private DaemonProcesses() {
    }

    /** The command line of a basaltd on {@code socket} with the given directories and the built images. */
    static List<String> command(Path socket, Path run, Path state, Path shm) {
        return List.of(ProcessHandle.current().info().command().orElseThrow(), "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "--socket", socket.toString(),
                "--images", GrpcVms.imagesDir().toString(), "--run-dir", run.toString(),
                "--state-dir", state.toString(), "--shm-dir", shm.toString());
    }

    /** Starts it with its output appended to {@code log}; returns once its socket exists. */
    static Process start(List<String> command, Path log, Path socket) throws Exception {
        Files.deleteIfExists(socket);
        Process daemon = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!Files.exists(socket)) {
            assertThat(daemon.isAlive()).as("basaltd running; log: %s", read(log)).isTrue();
            assertThat(System.nanoTime()).as("socket within 30 s").isLessThan(deadline);
            Thread.sleep(50);
        }
        return daemon;
    }

    static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log)";
        }
    }

    /** Copies a file or a directory tree (a class-path entry). */
    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.createDirectories(target.getParent());
                    Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }
}
