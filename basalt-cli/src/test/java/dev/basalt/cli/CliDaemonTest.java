package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.core.ManagerConfig;
import dev.basalt.core.SandboxManager;
import dev.basalt.server.BasaltServer;
import dev.basalt.vmm.Hypervisors;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Separate `basalt` invocations against one basaltd: sandboxes outlive the command that made them. */
class CliDaemonTest {

    /** One command line with a fresh context, like a fresh process (the port is chosen from --host). */
    static CliTest.Outcome basalt(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        // a fresh context per call, like a fresh process: the port is chosen from --host
        try (CliContext context = new CliContext(null, false, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), new ByteArrayInputStream(new byte[0]))) {
            int code = Main.run(context, args);
            return new CliTest.Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void verbsTalkToTheDaemon(@TempDir Path tmp) throws Exception {
        Path socket = tmp.resolve("basaltd.sock");
        Path shm = Path.of("/dev/shm", "basalt-cli-daemon-" + ProcessHandle.current().pid());
        ManagerConfig config = ManagerConfig.defaults().withImagesDir(CliTest.images()).withRunRoot(tmp.resolve("run"))
                .withStateDir(tmp.resolve("state")).withShmDir(shm);
        try (SandboxManager manager = new SandboxManager(config, Hypervisors.detect());
             BasaltServer server = BasaltServer.onUnixSocket(socket, manager).start()) {
            String host = "unix:" + socket;
            CliTest.Outcome created = basalt("--host", host, "create", "--label", "via=daemon");
            assertThat(created.code()).as(created.err()).isZero();
            String id = created.out().strip();
            assertThat(basalt("--host", host, "exec", id, "--", "sh", "-c", "echo hi > /root/x; cat /root/x").out())
                    .isEqualTo("hi\n");
            assertThat(basalt("--host", host, "ls").out()).contains(id).contains("via=daemon");
            assertThat(basalt("--host", host, "ls", "-q", "--filter", "label=via=daemon").out()).isEqualTo(id + "\n");
            assertThat(basalt("--host", host, "templates").out()).as("templates through the daemon").contains("default");
            assertThat(basalt("--host", host, "cp", id + ":/root/x", "-").out()).isEqualTo("hi\n");
            CliTest.Outcome run = basalt("--host", host, "run", "--", "sh", "-c", "exit 5");
            assertThat(run.code()).isEqualTo(5);
            assertThat(basalt("--host", host, "rm", id).code()).isZero();
            CliTest.Outcome prune = basalt("--host", host, "templates", "prune");
            assertThat(prune.out()).as(prune.err()).containsPattern("deleted [1-9]\\d* template");
            assertThat(basalt("--host", host, "templates", "--json").out().strip()).isEqualTo("[ ]");
            CliTest.Outcome gone = basalt("--host", host, "inspect", id);
            assertThat(gone.code()).isEqualTo(3);
            assertThat(gone.err()).contains(id).doesNotContain("without the basalt daemon");
            assertThat(manager.list()).isEmpty();
        } finally {
            CliTestSupport.deleteTree(shm);
        }
        CliTest.Outcome down = basalt("--host", "unix:" + socket, "ls");
        assertThat(down.code()).isEqualTo(5);
        assertThat(down.err()).contains("cannot reach basaltd at unix://" + socket + ": ")
                .doesNotContain("io exception");
    }
}
