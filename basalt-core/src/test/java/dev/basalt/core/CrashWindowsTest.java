package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.SandboxState;
import dev.basalt.vmm.Hypervisors;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code kill -9} of a daemon-mode manager inside each window of a long operation — checkpoint,
 * fork, a fork's children, restore, upload, create (clone and boot), template save and pause — loses no
 * sandbox and leaks no file or process: the next manager on the same state starts at once,
 * resumes the VM the dead one left paused, rolls back sandboxes that were still being created,
 * sweeps temporary snapshot, fork and template files, and the sandbox answers again. A real daemon
 * process ({@link Child}) is stopped at each window by the {@link CrashPoint} test hook and killed
 * there; one sandbox lives through every round.
 */
class CrashWindowsTest {
    private static final Logger log = LoggerFactory.getLogger(CrashWindowsTest.class);

    @Test
    void killMinus9InEveryWindowLosesNothingAndLeaksNothing(@TempDir Path tmp) throws Exception {
        String id = crash(tmp, "checkpoint-saved", "checkpoint", null);
        Duration answered = afterRestart(tmp, id, m -> {
            assertThat(m.snapshots()).as("the interrupted checkpoint is not published").isEmpty();
        });
        log.info("basaltd killed during a checkpoint: the sandbox answered {} ms after the restart began",
                answered.toMillis());

        crash(tmp, "fork-saved", "fork", id);
        afterRestart(tmp, id, m -> { });
        crash(tmp, "restore-started", "fork", id);              // the children are half-made
        afterRestart(tmp, id, m -> { });
        crash(tmp, "upload-streaming", "upload", id);
        afterRestart(tmp, id, m -> assertThat(m.exec(id, ExecRequest.of("ls", "-a", "/root")).stdoutText())
                .as("the partial upload is gone").isEqualTo(".\n..\nmark\n"));
        crash(tmp, "restore-started", "restore", id);
        afterRestart(tmp, id, m -> {
            SandboxInfo restored = m.restore("snap", java.util.Map.of());   // the snapshot is intact
            assertThat(m.exec(restored.id(), ExecRequest.of("cat", "/root/mark")).stdoutText()).isEqualTo("mark\n");
            m.remove(restored.id());
        });
        crash(tmp, "clone-started", "create", id);
        afterRestart(tmp, id, m -> { });
        crash(tmp, "boot-started", "boot", id);
        afterRestart(tmp, id, m -> { });
        crash(tmp, "template-saved", "template", id);
        afterRestart(tmp, id, m -> { });
        crash(tmp, "pause-saved", "pause", id);                  // recorded PAUSED, its VM still running
        try (SandboxManager m = new SandboxManager(Child.config(tmp), Hypervisors.detect())) {
            assertThat(m.inspect(id).state()).isEqualTo(SandboxState.PAUSED);
            m.resume(id);   // the VM the dead daemon left is ended, its run directory made anew
            assertThat(m.exec(id, ExecRequest.of("cat", "/root/mark")).stdoutText()).isEqualTo("mark\n");
        }
        afterRestart(tmp, id, m -> { });

        try (SandboxManager m = new SandboxManager(Child.config(tmp), Hypervisors.detect())) {
            assertThat(m.awaitReattached(Duration.ofSeconds(60))).isTrue();
            m.remove(id);
            m.deleteSnapshot("snap");
        }
        assertThat(vmmsOf(tmp)).as("VM processes left").isEmpty();
        assertThat(Files.list(tmp.resolve("run")).toList()).isEmpty();
    }

    /** Runs {@link Child} with {@code point} armed until it stops there, kills it with SIGKILL; returns the sandbox id. */
    private static String crash(Path tmp, String point, String operation, String id) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                "-Dbasalt.images=" + RealVms.imagesDir(), "-Dbasalt.test.crashAt=" + point, Child.class.getName(),
                tmp.toString(), operation));
        if (id != null) {
            cmd.add(id);
        }
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        StringBuilder output = new StringBuilder();
        String made = id;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
            String line;
            while ((line = out.readLine()) != null) {
                output.append(line).append('\n');
                if (line.startsWith("ID ")) {
                    made = line.substring(3).strip();
                }
                if (line.equals("basalt-crash-point " + point)) {
                    child.destroyForcibly();      // SIGKILL, inside the window
                    child.waitFor(10, TimeUnit.SECONDS);
                    log.info("killed the daemon at {} ({})", point, operation);
                    return made;
                }
                if (System.nanoTime() > deadline) {
                    break;
                }
            }
            fail("the daemon never reached " + point + "; its output:\n" + output);
            return null;
        } finally {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
        }
    }

    interface Check {
        void accept(SandboxManager m) throws Exception;
    }

    /**
     * Starts a manager on the dead daemon's state and checks: it is constructed at once, the
     * sandbox answers, nothing half-made is left (files, records, VMs); returns the time from the
     * start of the restart until the sandbox answered.
     */
    private static Duration afterRestart(Path tmp, String id, Check more) throws Exception {
        long start = System.nanoTime();
        try (SandboxManager m = new SandboxManager(Child.config(tmp), Hypervisors.detect())) {
            Duration constructed = Duration.ofNanos(System.nanoTime() - start);
            assertThat(constructed).as("a restarted manager serves at once").isLessThan(Duration.ofSeconds(3));
            assertThat(m.list()).extracting(SandboxInfo::id).as("sandboxes after the restart").containsExactly(id);
            try {
                assertThat(m.exec(id, ExecRequest.of("cat", "/root/mark")).stdoutText()).isEqualTo("mark\n");
            } catch (RuntimeException e) {
                throw new AssertionError("console:\n" + m.consoleLog(id, 20000), e);
            }
            Duration answered = Duration.ofNanos(System.nanoTime() - start);
            assertThat(m.inspect(id).state()).isEqualTo(SandboxState.READY);
            assertThat(m.awaitReattached(Duration.ofSeconds(30))).isTrue();
            more.accept(m);
            assertNothingLeft(tmp, m);
            return answered;
        }
    }

    private static void assertNothingLeft(Path tmp, SandboxManager m) throws Exception {
        ManagerConfig c = Child.config(tmp);
        assertThat(names(c.snapshotsDir())).as("temporary snapshot directories").noneMatch(n -> n.startsWith("."));
        assertThat(names(c.shmDir().resolve("forks"))).as("fork states").isEmpty();
        assertThat(names(c.shmDir().resolve("templates"))).as("temporary templates").noneMatch(n -> n.startsWith(".t"));
        Set<String> live = m.list().stream().map(SandboxInfo::id).collect(Collectors.toSet());
        assertThat(names(c.runRoot())).as("sandbox directories").containsExactlyInAnyOrderElementsOf(live);
        assertThat(vmmsOf(tmp)).as("sandboxes with VM processes").containsExactlyInAnyOrderElementsOf(live);
        assertThat(Files.getPosixFilePermissions(c.stateDir())).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(Files.getPosixFilePermissions(c.stateDir().resolve("basalt.db")))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.getPosixFilePermissions(c.snapshotsDir())).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(names(c.stateDir().resolve("lib"))).as("SQLite's native libraries of killed daemons").hasSizeLessThanOrEqualTo(1);
    }

    private static List<String> names(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    /**
     * The sandbox directories named by the command lines of running processes (VMMs and their
     * launchers) under this test's run directory.
     */
    private static Set<String> vmmsOf(Path tmp) {
        java.util.regex.Pattern dir = java.util.regex.Pattern.compile(
                java.util.regex.Pattern.quote(tmp.resolve("run") + "/") + "([^/ ]+)/");
        return ProcessHandle.allProcesses()
                .map(p -> p.info().arguments().map(a -> dir.matcher(String.join(" ", a))).filter(java.util.regex.Matcher::find)
                        .map(mm -> mm.group(1)).orElse(null))
                .filter(java.util.Objects::nonNull).collect(Collectors.toSet());
    }

    /**
     * A daemon-mode manager in its own process: takes over what the last one left, then runs one
     * operation that stops at the armed {@link CrashPoint} (where the test kills it).
     */
    public static final class Child {
        static ManagerConfig config(Path dir) {
            return RealVms.config().withRunRoot(dir.resolve("run")).withStateDir(dir.resolve("state"))
                    .withShmDir(dir.resolve("shm")).withVmsDieWithManager(false);
        }

        public static void main(String[] args) throws Exception {
            SandboxManager m = new SandboxManager(config(Path.of(args[0])), Hypervisors.detect());
            m.awaitReattached(Duration.ofMinutes(1));
            String id = args.length > 2 ? args[2] : null;
            switch (args[1]) {
                case "checkpoint" -> {
                    id = m.create(SandboxSpec.defaults()).id();
                    m.exec(id, ExecRequest.of("sh", "-c", "echo mark > /root/mark"));
                    System.out.println("ID " + id);
                    System.out.flush();
                    m.checkpoint(id, "snap");
                }
                case "fork" -> m.fork(id, 2);
                case "upload" -> m.writeFile(id, "/root/big", new ByteArrayInputStream(new byte[4 << 20]), 0644);
                case "restore" -> {
                    m.checkpoint(id, "snap");
                    m.restore("snap", java.util.Map.of());
                }
                case "create" -> m.create(SandboxSpec.defaults());
                case "boot" -> m.create(SandboxSpec.defaults().withColdBoot(true));
                case "template" -> m.create(SandboxSpec.defaults().withMemoryMib(200));
                case "pause" -> m.pause(id);
                default -> throw new IllegalArgumentException(args[1]);
            }
            System.out.println("the operation finished: the crash point was not reached");
            System.exit(3);
        }
    }
}
