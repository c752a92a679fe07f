package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.core.ManagerConfig;
import dev.basalt.core.SandboxManager;
import dev.basalt.vmm.Hypervisors;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI verbs, in-process, against a real embedded manager with real VMs. */
class CliTest {
    private static SandboxManager manager;
    private static Path runRoot;
    private static Path stateDir;
    private static Path shmDir;

    @BeforeAll
    static void start() throws Exception {
        if (manager != null) {
            return;
        }
        runRoot = Files.createTempDirectory("basalt-cli-test");
        stateDir = Files.createTempDirectory("basalt-cli-state");
        shmDir = Path.of("/dev/shm", "basalt-cli-test-" + ProcessHandle.current().pid());
        manager = new SandboxManager(ManagerConfig.defaults().withImagesDir(images()).withRunRoot(runRoot)
                .withStateDir(stateDir).withShmDir(shmDir), Hypervisors.detect());
    }

    @AfterAll
    static void stop() throws Exception {
        if (manager == null) {
            return;
        }
        manager.close();
        manager = null;
        try (var left = Files.list(runRoot)) {
            assertThat(left.toList()).as("sandbox directories left behind").isEmpty();
        }
        Files.delete(runRoot);
        CliTestSupport.deleteTree(stateDir);
        CliTestSupport.deleteTree(shmDir);
    }

    static SandboxManager manager() {
        return manager;
    }

    static Path images() {
        return dev.basalt.core.ImageCatalog.requireBuiltImages();
    }

    /** What one command line printed and returned. */
    record Outcome(int code, String out, String err) {}

    static Outcome basaltWithStdin(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        CliContext context = new CliContext(() -> manager, false, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        int code = Main.run(context, args);
        return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Outcome basalt(String... args) {
        return basaltWithStdin("", args);
    }

    @Test
    void runPrintsOutputAndExitsWithTheCommandsCode() {
        Outcome ok = basalt("run", "--", "sh", "-c", "echo out; echo err >&2; exit 42");
        assertThat(ok.code()).isEqualTo(42);
        assertThat(ok.out()).isEqualTo("out\n");
        assertThat(ok.err()).isEqualTo("err\n");
        assertThat(manager.list()).as("run removes its sandbox").isEmpty();
    }

    @Test
    void runWithInteractiveStdinEnvWorkdirAndTimeout() {
        assertThat(basaltWithStdin("piped input", "run", "-i", "--", "cat").out()).isEqualTo("piped input");
        assertThat(basalt("run", "-e", "A=b c", "-w", "/tmp", "--", "sh", "-c", "echo $A; pwd").out())
                .isEqualTo("b c\n/tmp\n");
        Outcome slow = basalt("run", "--timeout", "0.5", "--", "sleep", "30");
        assertThat(slow.code()).isEqualTo(124);
        assertThat(slow.err()).contains("timed out");
    }

    @Test
    void programNotFoundIs127AndBadInputIsAClearError() {
        Outcome missing = basalt("run", "--", "no-such-program");
        assertThat(missing.code()).isEqualTo(127);
        assertThat(missing.err()).contains("no-such-program");
        Outcome memory = basalt("run", "--memory", "0", "--", "true");
        assertThat(memory.code()).isEqualTo(2);
        assertThat(memory.err()).contains("memory must be between");
        Outcome unknown = basalt("exec", "ffffffffffff", "--", "true");
        assertThat(unknown.code()).isEqualTo(3);
        assertThat(unknown.err()).contains("no sandbox with id 'ffffffffffff'");
        assertThat(basalt("run").code()).isEqualTo(2);
    }

    @Test
    void sandboxVerbs(@TempDir Path tmp) throws Exception {
        String id = basalt("create", "--label", "team=qa").out().strip();
        assertThat(id).matches("[0-9a-f]{12}");
        try {
            assertThat(basalt("ls").out()).contains(id).contains("READY").contains("team=qa");
            assertThat(basalt("ls", "--json").out()).contains("\"id\" : \"" + id + "\"");
            assertThat(basalt("inspect", id).out()).contains("\"accel\"").contains("\"state\" : \"READY\"");
            assertThat(basalt("exec", id, "--", "sh", "-c", "echo hi > /tmp/x; cat /tmp/x").out()).isEqualTo("hi\n");
            assertThat(basalt("logs", id).code()).isZero();

            // cp: a tree up, the same tree down, byte for byte
            Path src = Files.createDirectories(tmp.resolve("src/sub"));
            Files.writeString(tmp.resolve("src/a.txt"), "alpha");
            Files.write(src.resolve("b.bin"), new byte[300_000]);
            assertThat(basalt("cp", tmp.resolve("src").toString(), id + ":/work/").code()).isZero();
            assertThat(basalt("exec", id, "--", "cat", "/work/src/a.txt").out()).isEqualTo("alpha");
            assertThat(basalt("cp", id + ":/work/src", tmp.resolve("back").toString()).code()).isZero();
            assertThat(Files.readString(tmp.resolve("back/a.txt"))).isEqualTo("alpha");
            assertThat(Files.size(tmp.resolve("back/sub/b.bin"))).isEqualTo(300_000);
            assertThat(basalt("cp", id + ":/work/src/a.txt", "-").out()).isEqualTo("alpha");
            assertThat(basaltWithStdin("from stdin", "cp", "-", id + ":/work/in.txt").code()).isZero();
            assertThat(basalt("exec", id, "--", "cat", "/work/in.txt").out()).isEqualTo("from stdin");
            Outcome bad = basalt("cp", "a", "b");
            assertThat(bad.code()).isEqualTo(2);
            assertThat(bad.err()).contains("exactly one of SRC and DST");
            Outcome missing = basalt("cp", id + ":/nope", tmp.resolve("x").toString());
            assertThat(missing.code()).isEqualTo(3);
            assertThat(missing.err()).contains("/nope");

            assertThat(basalt("stop", id).code()).isZero();
            assertThat(basalt("inspect", id).out()).contains("STOPPED");
            Outcome stopped = basalt("exec", id, "--", "true");
            assertThat(stopped.code()).isEqualTo(4);
            assertThat(stopped.err()).contains("STOPPED");
        } finally {
            assertThat(basalt("rm", id).code()).isZero();
        }
        assertThat(basalt("inspect", id).code()).isEqualTo(3);
    }
}
