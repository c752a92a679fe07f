package dev.basalt.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The training run behind the CLI's ahead-of-time cache. {@code bin/basalt} runs this class once
 * per build under {@code -XX:AOTCacheOutput} (JDK 25, JEP 483/514/515); later one-shot commands start
 * with {@code -XX:AOTCache} and find the classes this run loaded (picocli, the gRPC client, netty,
 * protobuf) already parsed and linked, with the method profiles of this run.
 *
 * <p>It starts a throw-away basaltd as a <em>separate process</em> (its own run, state and template
 * directories, deleted afterwards) and runs the everyday verbs against it, a sandbox's whole life
 * included: so the cache holds what a client loads and nothing of the server or the core, which
 * every command would otherwise load at start-up for nothing. A verb that fails trains its error
 * path and the run goes on; it prints one line per failed verb to stderr and exits 0 either way,
 * since the cache only speeds the CLI up.
 */
public final class StartupTraining {
    private StartupTraining() {
    }

    public static void main(String[] args) throws Exception {
        Logging.quietTransport();
        Path dir = Files.createTempDirectory("basalt-cli-training");
        Path shm = Files.createTempDirectory(Path.of("/dev/shm"), "basalt-cli-training");
        Path socket = dir.resolve("basaltd.sock");
        Process daemon = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "-Dbasalt.images=" + System.getProperty("basalt.images", ""), "dev.basalt.server.Main",
                "--socket", socket.toString(), "--run-dir", dir.resolve("run").toString(),
                "--state-dir", dir.resolve("state").toString(), "--shm-dir", shm.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("basaltd.log").toFile()).start();
        try {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!Files.exists(socket) && daemon.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            exercise("unix:" + socket, dir);
        } finally {
            daemon.destroy();                                   // SIGTERM: it stops; its VMs were removed above
            if (!daemon.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                daemon.destroyForcibly();
            }
            deleteTree(shm);
            deleteTree(dir);
        }
        System.exit(0);
    }

    /** The verbs a user runs most, against the basaltd at {@code host}. */
    private static void exercise(String host, Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("hello.txt"), "hello\n");
        verb("--help");
        verb("ls", "--help");
        verb("-H", host, "ls");
        verb("-H", host, "run", "--", "sh", "-c", "echo out; echo err >&2");
        String id = verb("-H", host, "create", "--label", "training=yes").strip();
        for (int i = 0; i < 3; i++) {
            verb("-H", host, "exec", id, "--", "true");
            verb("-H", host, "exec", id, "--", "sh", "-c", "echo out; echo err >&2");
            verb("-H", host, "ls");
            verb("-H", host, "run", "--", "true");
        }
        verb("-H", host, "cp", file.toString(), id + ":/tmp/hello.txt");
        verb("-H", host, "cp", id + ":/tmp/hello.txt", dir.resolve("back.txt").toString());
        verb("-H", host, "ls", "--json");
        verb("-H", host, "ls", "-a", "-q", "--filter", "label=training=yes");
        verb("-H", host, "inspect", id);
        verb("-H", host, "logs", id);
        verb("-H", host, "snapshots");
        verb("-H", host, "templates");
        verb("-H", host, "pool");
        verb("-H", host, "rm", id);
        verb("-H", host, "inspect", "no-such-sandbox");
    }
    /** Runs one command line in this JVM; returns its standard output. */
    private static String verb(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (CliContext context = new CliContext(null, false, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), new ByteArrayInputStream(new byte[0]))) {
            code = Main.run(context, args);
        }
        boolean errorExpected = List.of(args).contains("no-such-sandbox");
        if ((code != 0) != errorExpected) {
            System.err.println("basalt: training `basalt " + String.join(" ", args) + "` exited " + code + ": "
                    + err.toString(StandardCharsets.UTF_8).strip());
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
