package dev.basalt.cli;

import dev.basalt.core.ManagerConfig;
import dev.basalt.core.RunRoot;
import dev.basalt.core.SandboxManager;
import dev.basalt.server.BasaltServer;
import dev.basalt.vmm.Hypervisors;
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
 * per build under {@code -XX:AOTCacheOutput} (JDK 25, JEP 483/514); later one-shot commands start
 * with {@code -XX:AOTCache} and find the classes this run loaded (picocli, the gRPC client, protobuf,
 * Jackson, the core) already parsed and linked: {@code basalt ls} against basaltd took 1.5 s before,
 * 0.8 s with the cache.
 *
 * <p>It serves a throw-away basaltd inside this JVM (its own run, state and template directories,
 * deleted afterwards) and runs the everyday verbs against it, a sandbox's whole life included. A
 * verb that fails trains its error path and the run goes on; it prints one line per failed verb to
 * stderr and exits 0 either way, since the cache only speeds the CLI up.
 */
public final class StartupTraining {
    private StartupTraining() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Files.createTempDirectory("basalt-cli-training");
        Path shm = Files.createTempDirectory(Path.of("/dev/shm"), "basalt-cli-training");
        try {
            ManagerConfig config = ManagerConfig.defaults().withRunRoot(dir.resolve("run"))
                    .withStateDir(dir.resolve("state")).withShmDir(shm);
            Path socket = dir.resolve("basaltd.sock");
            try (SandboxManager manager = new SandboxManager(config, Hypervisors.detect());
                 BasaltServer server = BasaltServer.onUnixSocket(socket, manager).start()) {
                exercise("unix:" + socket, dir);
            }
        } finally {
            RunRoot.deleteTree(shm);
            RunRoot.deleteTree(dir);
        }
        System.exit(0);
    }

    /** The verbs a user runs most, against the basaltd at {@code host}. */
    private static void exercise(String host, Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("hello.txt"), "hello\n");
        verb("--help");
        verb("-H", host, "ls");
        verb("-H", host, "run", "--", "sh", "-c", "echo out; echo err >&2");
        String id = verb("-H", host, "create", "--label", "training=yes").strip();
        verb("-H", host, "exec", id, "--", "true");
        verb("-H", host, "cp", file.toString(), id + ":/tmp/hello.txt");
        verb("-H", host, "cp", id + ":/tmp/hello.txt", dir.resolve("back.txt").toString());
        verb("-H", host, "ls", "--json");
        verb("-H", host, "inspect", id);
        verb("-H", host, "logs", id);
        verb("-H", host, "snapshots");
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
}
