package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.SandboxSpec;
import dev.basalt.vmm.Hypervisors;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Basalt process killed with SIGKILL takes its VMs with it, and the next manager on the same
 * run directory removes what the dead one left on disk.
 */
class CrashCleanupTest {

    @Test
    void vmsDieWithAKilledEmbedderAndItsDirectoriesAreReaped(@TempDir Path tmp) throws Exception {
        Path runRoot = tmp.resolve("run");
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process embedder = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "-Dbasalt.images=" + RealVms.imagesDir(), Embedder.class.getName(), tmp.toString())
                .redirectErrorStream(true).start();
        long vmmPid;
        String sandboxId;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(embedder.getInputStream()))) {
            String line;
            do {
                line = out.readLine();
                assertThat(line).as("embedder output before READY").isNotNull();
            } while (!line.startsWith("READY "));
            String[] parts = line.split(" ");
            sandboxId = parts[1];
            vmmPid = Long.parseLong(parts[2]);
            ProcessHandle vmm = ProcessHandle.of(vmmPid).orElseThrow();
            assertThat(vmm.isAlive()).isTrue();

            embedder.destroyForcibly();      // SIGKILL: no shutdown hook, no close()
            embedder.waitFor();
            vmm.onExit().get(10, TimeUnit.SECONDS);
            assertThat(vmm.isAlive()).as("QEMU outliving its killed parent").isFalse();
        } finally {
            embedder.destroyForcibly();
        }
        assertThat(runRoot.resolve(sandboxId)).isDirectory();   // the dead process could not clean up
        try (SandboxManager next = new SandboxManager(config(tmp), Hypervisors.detect())) {
            assertThat(runRoot.resolve(sandboxId)).doesNotExist();
            assertThat(next.list()).isEmpty();
        }
        try (var left = Files.list(runRoot)) {
            assertThat(left.toList()).isEmpty();
        }
    }

    /** Everything of both processes under the test's temporary directory, so a killed one leaves nothing elsewhere. */
    static ManagerConfig config(Path dir) {
        return RealVms.config().withRunRoot(dir.resolve("run")).withStateDir(dir.resolve("state"))
                .withShmDir(dir.resolve("shm"));
    }

    /** The process that gets killed: creates one sandbox, reports it, and waits to die. */
    public static final class Embedder {
        public static void main(String[] args) throws Exception {
            SandboxManager manager = new SandboxManager(config(Path.of(args[0])), Hypervisors.detect());
            var info = manager.create(SandboxSpec.defaults().withColdBoot(true));
            System.out.println("READY " + info.id() + " " + info.vmmPid());
            System.out.flush();
            Thread.sleep(Duration.ofMinutes(5));
            List.of(manager).forEach(SandboxManager::close);
        }
    }
}
