package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecOutput;
import dev.basalt.api.ExecProcess;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.SandboxState;
import dev.basalt.vmm.Hypervisors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pause and resume with real VMs: a paused sandbox has no VM, refuses guest operations, and comes
 * back under the same id with its files, a process that kept running in the guest and the right
 * time; a daemon-mode manager that closes leaves it paused for the next one to resume.
 */
@ExtendWith(RealVms.class)
class PauseTest {
    /**
     * A loop that outlives the exec that started it (its own session, so the end of the exec's
     * process group does not end it): it appends the guest's clock to /root/ticks every second.
     */
    private static final ExecRequest TICKER = ExecRequest.of("sh", "-c",
            "setsid sh -c 'while :; do date +%s >> /root/ticks; sleep 1; done' < /dev/null > /dev/null 2>&1 &");

    @Test
    void pauseStopsTheVmAndResumeBringsEverythingBack(SandboxManager m) throws Exception {
        SandboxInfo created = m.create(SandboxSpec.defaults().withLabels(Map.of("who", "pause-test")).withTtl(Duration.ofMinutes(10)));
        String id = created.id();
        try {
            m.exec(id, ExecRequest.of("sh", "-c", "echo kept > /root/file"));
            m.exec(id, TICKER);
            Thread.sleep(2500);
            assertThat(lines(m, id)).as("the loop runs").isGreaterThan(1);
            ExecProcess streaming = m.start(id, ExecRequest.of("sleep", "600"), ExecOutput.discard());
            assertThatThrownBy(() -> m.pause(id)).isInstanceOf(BasaltException.WrongState.class)
                    .hasMessageContaining("in flight");
            streaming.close();
            streaming.awaitExit(Duration.ofSeconds(10));

            long vmmPid = m.inspect(id).vmmPid();
            SandboxInfo paused = m.pause(id);
            assertThat(paused.state()).isEqualTo(SandboxState.PAUSED);
            assertThat(paused.vmmPid()).isZero();
            assertThat(paused.labels()).containsEntry("who", "pause-test");
            assertThat(paused.expiresAt()).isEqualTo(created.expiresAt());
            assertThat(gone(vmmPid)).as("the VM is gone: a paused sandbox costs no memory (%s)", status(vmmPid)).isTrue();
            assertThat(m.list()).extracting(SandboxInfo::id, SandboxInfo::state).contains(org.assertj.core.groups.Tuple.tuple(id, SandboxState.PAUSED));
            assertThatThrownBy(() -> m.exec(id, ExecRequest.of("true"))).isInstanceOf(BasaltException.WrongState.class)
                    .hasMessageContaining("PAUSED").hasMessageContaining("resume");
            assertThatThrownBy(() -> m.pause(id)).isInstanceOf(BasaltException.WrongState.class);
            Path state = RealVms.config().stateDir().resolve("paused").resolve(id).resolve(PauseOps.STATE);
            assertThat(state).isRegularFile();

            Thread.sleep(3000);   // the guest's clock stands still meanwhile; the resume sets it
            SandboxInfo resumed = m.resume(id);
            assertThat(resumed.id()).isEqualTo(id);
            assertThat(resumed.state()).isEqualTo(SandboxState.READY);
            assertThat(resumed.createdAt()).isEqualTo(created.createdAt());
            assertThat(resumed.expiresAt()).isEqualTo(created.expiresAt());
            assertThat(resumed.vmmPid()).isPositive().isNotEqualTo(vmmPid);
            assertThat(state).doesNotExist();
            assertThatThrownBy(() -> m.resume(id)).isInstanceOf(BasaltException.WrongState.class);

            assertThat(m.exec(id, ExecRequest.of("cat", "/root/file")).stdoutText()).isEqualTo("kept\n");
            long guestNow = Long.parseLong(m.exec(id, ExecRequest.of("date", "+%s")).stdoutText().strip());
            assertThat(guestNow).isCloseTo(Instant.now().getEpochSecond(), org.assertj.core.data.Offset.offset(5L));
            int ticks = lines(m, id);
            Thread.sleep(2500);
            assertThat(lines(m, id)).as("the loop started before the pause ticks on").isGreaterThan(ticks);
            assertThat(m.exec(id, ExecRequest.of("hostname")).stdoutText().strip()).isEqualTo(id);

            m.pause(id);
        } finally {
            m.remove(id);
        }
        assertThat(RealVms.config().stateDir().resolve("paused").resolve(id)).as("removing a paused sandbox deletes its state")
                .doesNotExist();
        assertThatThrownBy(() -> m.inspect(id)).isInstanceOf(BasaltException.NotFound.class);
    }

    /** True once the process has exited (a zombie waiting to be reaped counts as gone). */
    private static boolean gone(long pid) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            String status = status(pid);
            if (status.isEmpty() || status.contains("State:\tZ")) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }

    private static String status(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "status"));
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private static int lines(SandboxManager m, String id) {
        return m.exec(id, ExecRequest.of("cat", "/root/ticks")).stdoutText().split("\n").length;
    }

    @Test
    void aPausedSandboxWaitsForTheNextDaemon(@TempDir Path tmp) {
        ManagerConfig config = RealVms.config().withRunRoot(tmp.resolve("run")).withStateDir(tmp.resolve("state"))
                .withShmDir(Path.of("/dev/shm", "basalt-pause-test-" + ProcessHandle.current().pid()))
                .withVmsDieWithManager(false);
        String id;
        try (SandboxManager first = new SandboxManager(config, Hypervisors.detect())) {
            id = first.create(SandboxSpec.defaults().withTtl(Duration.ofMinutes(10))).id();
            first.exec(id, ExecRequest.of("sh", "-c", "echo from-the-first-daemon > /root/note"));
            first.pause(id);
        }
        try (SandboxManager second = new SandboxManager(config, Hypervisors.detect())) {
            SandboxInfo info = second.inspect(id);
            assertThat(info.state()).isEqualTo(SandboxState.PAUSED);
            assertThat(info.expiresAt()).isPresent();
            second.resume(id);
            assertThat(second.exec(id, ExecRequest.of("cat", "/root/note")).stdoutText()).isEqualTo("from-the-first-daemon\n");
            second.remove(id);
        } finally {
            try (var files = Files.walk(Path.of("/dev/shm", "basalt-pause-test-" + ProcessHandle.current().pid()))) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (java.io.IOException e) {
                // nothing there
            }
        }
    }
}
