package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.ExecOutput;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.SandboxState;
import dev.basalt.vmm.Hypervisors;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A daemon-mode manager killed with SIGKILL loses nothing: its VMs keep running, the next manager
 * on the same state reattaches to them (files intact, the interrupted exec gone, the sandbox usable)
 * and reports the one whose VM died meanwhile as FAILED.
 */
class DaemonRestartTest {

    @Test
    void sandboxesSurviveAKilledDaemon(@TempDir Path tmp) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process daemon = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "-Dbasalt.images=" + RealVms.imagesDir(), Daemon.class.getName(), tmp.toString())
                .redirectErrorStream(true).start();
        List<String> ids = new ArrayList<>();
        List<Long> pids = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(daemon.getInputStream()))) {
            String line;
            while ((line = out.readLine()) != null && !line.equals("BUSY")) {
                if (line.startsWith("READY ")) {
                    ids.add(line.split(" ")[1]);
                    pids.add(Long.parseLong(line.split(" ")[2]));
                }
            }
            assertThat(line).as("daemon output").isEqualTo("BUSY");
        } finally {
            daemon.destroyForcibly();    // SIGKILL, in the middle of an exec
            daemon.waitFor();
        }
        assertThat(ids).hasSize(3);
        for (long pid : pids) {
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).as("VM outlives the daemon").contains(true);
        }
        ProcessHandle dead = ProcessHandle.of(pids.get(2)).orElseThrow();
        dead.destroyForcibly();
        dead.onExit().get(10, TimeUnit.SECONDS);

        long start = System.nanoTime();
        try (SandboxManager m = new SandboxManager(Daemon.config(tmp), Hypervisors.detect())) {
            assertThat(m.awaitReattached(Duration.ofSeconds(60))).isTrue();
            long reattachMillis = (System.nanoTime() - start) / 1_000_000;
            org.slf4j.LoggerFactory.getLogger(getClass()).info("reattached 3 sandboxes in {} ms", reattachMillis);
            assertThat(m.inspect(ids.get(0)).state()).isEqualTo(SandboxState.READY);
            assertThat(m.inspect(ids.get(1)).state()).isEqualTo(SandboxState.READY);
            assertThat(m.inspect(ids.get(1)).labels()).containsEntry("n", "1");
            SandboxInfo failed = m.inspect(ids.get(2));
            assertThat(failed.state()).isEqualTo(SandboxState.FAILED);
            assertThat(failed.failure()).get().asString().contains("died while basaltd was not running");
            for (int i = 0; i < 2; i++) {
                assertThat(m.exec(ids.get(i), ExecRequest.of("cat", "/root/mark")).stdoutText()).isEqualTo("sandbox " + i + "\n");
            }
            String procs = m.exec(ids.get(0), ExecRequest.of("ps")).stdoutText();
            assertThat(procs).as("the exec interrupted by the daemon's death is gone").doesNotContain("sleep 1000");
            for (String id : ids) {
                m.remove(id);
            }
            assertThat(m.list()).isEmpty();
        }
        for (long pid : pids) {
            assertThat(ProcessHandle.of(pid)).isEmpty();
        }
        // a restart with nothing recorded finds nothing
        try (SandboxManager m = new SandboxManager(Daemon.config(tmp), Hypervisors.detect())) {
            assertThat(m.list()).isEmpty();
        }
    }

    /** A daemon-mode manager in its own process: three sandboxes, one busy exec, then it waits to be killed. */
    public static final class Daemon {
        static ManagerConfig config(Path dir) {
            return RealVms.config().withRunRoot(dir.resolve("run")).withStateDir(dir.resolve("state"))
                    .withShmDir(dir.resolve("shm")).withVmsDieWithManager(false);
        }

        public static void main(String[] args) throws Exception {
            SandboxManager m = new SandboxManager(config(Path.of(args[0])), Hypervisors.detect());
            List<SandboxInfo> all = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                SandboxInfo s = m.create(SandboxSpec.defaults().withLabels(Map.of("n", Integer.toString(i))));
                m.exec(s.id(), ExecRequest.of("sh", "-c", "echo sandbox " + i + " > /root/mark"));
                all.add(s);
                System.out.println("READY " + s.id() + " " + m.inspect(s.id()).vmmPid());
            }
            m.start(all.getFirst().id(), ExecRequest.of("sleep", "1000"), ExecOutput.discard());
            System.out.println("BUSY");
            System.out.flush();
            Thread.sleep(Duration.ofMinutes(5));
        }
    }
}
