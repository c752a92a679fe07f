package dev.basalt.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.grpc.RemoteSandboxes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** basaltd as a real separate process on a temp unix socket, driven by RemoteSandboxes, then killed. */
class DaemonProcessTest {

    @Test
    void aRealBasaltdServesClientsAndItsVmsDieWithIt(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("basaltd.sock");
        String tag = "bd-" + ProcessHandle.current().pid();
        Path run = Path.of("/tmp", tag);
        Path shm = Path.of("/dev/shm", tag);
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process daemon = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "--socket", socket.toString(), "--images", GrpcVms.imagesDir().toString(), "--run-dir", run.toString(),
                "--state-dir", dir.resolve("state").toString(), "--shm-dir", shm.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("basaltd.log").toFile()).start();
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!Files.exists(socket)) {
                assertThat(daemon.isAlive()).as("basaltd running; log: %s", log(dir)).isTrue();
                assertThat(System.nanoTime()).as("socket within 30 s").isLessThan(deadline);
                Thread.sleep(50);
            }
            long vmmPid;
            try (RemoteSandboxes client = RemoteSandboxes.unixSocket(socket)) {
                SandboxInfo info = client.create(SandboxSpec.defaults().withLabels(Map.of("by", "daemon-test")));
                vmmPid = info.vmmPid();
                assertThat(client.exec(info.id(), ExecRequest.of("echo", "from basaltd")).stdoutText()).isEqualTo("from basaltd\n");
                assertThat(client.list()).extracting(SandboxInfo::id).containsExactly(info.id());
            }
            ProcessHandle vmm = ProcessHandle.of(vmmPid).orElseThrow();
            daemon.destroyForcibly();                           // SIGKILL to our own child, by PID
            assertThat(daemon.waitFor(10, TimeUnit.SECONDS)).isTrue();
            vmm.onExit().get(10, TimeUnit.SECONDS);
            assertThat(vmm.isAlive()).as("QEMU outliving its killed basaltd").isFalse();
        } finally {
            daemon.destroyForcibly();
            daemon.waitFor(10, TimeUnit.SECONDS);
            GrpcVms.deleteTree(run);
            GrpcVms.deleteTree(shm);
        }
    }

    private static String log(Path dir) {
        try {
            return Files.readString(dir.resolve("basaltd.log"));
        } catch (Exception e) {
            return "(no log)";
        }
    }
}
