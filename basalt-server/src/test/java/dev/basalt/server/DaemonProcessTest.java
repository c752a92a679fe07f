package dev.basalt.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.SandboxState;
import dev.basalt.grpc.RemoteSandboxes;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * basaltd as a real separate process on a temp unix socket, driven by RemoteSandboxes: killed with
 * SIGKILL, its VMs keep running; started again on the same state, it serves them as before.
 */
class DaemonProcessTest {

    @Test
    void aRealBasaltdSurvivesKillMinus9AndARestart(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("basaltd.sock");
        String tag = "bd-" + ProcessHandle.current().pid();
        Path run = Path.of("/tmp", tag);
        Path shm = Path.of("/dev/shm", tag);
        List<String> command = DaemonProcesses.command(socket, run, dir.resolve("state"), shm);
        Process daemon = DaemonProcesses.start(command, dir.resolve("basaltd.log"), socket);
        long vmmPid = 0;
        try {
            String id;
            try (RemoteSandboxes client = RemoteSandboxes.unixSocket(socket)) {
                SandboxInfo info = client.create(SandboxSpec.defaults().withLabels(Map.of("by", "daemon-test")));
                id = info.id();
                vmmPid = info.vmmPid();
                assertThat(client.exec(id, ExecRequest.of("sh", "-c", "echo kept > /root/f; cat /root/f")).stdoutText())
                        .isEqualTo("kept\n");
            }
            daemon.destroyForcibly();                           // SIGKILL to our own child, by PID
            assertThat(daemon.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(ProcessHandle.of(vmmPid).map(ProcessHandle::isAlive)).as("VM outlives basaltd").contains(true);

            daemon = DaemonProcesses.start(command, dir.resolve("basaltd.log"), socket);
            try (RemoteSandboxes client = RemoteSandboxes.unixSocket(socket)) {
                SandboxInfo info = client.inspect(id);
                assertThat(info.state()).isEqualTo(SandboxState.READY);
                assertThat(info.labels()).containsEntry("by", "daemon-test");
                assertThat(client.exec(id, ExecRequest.of("cat", "/root/f")).stdoutText()).isEqualTo("kept\n");
                client.remove(id);
                assertThat(client.list()).isEmpty();
            }
            assertThat(ProcessHandle.of(vmmPid)).isEmpty();
        } finally {
            daemon.destroyForcibly();
            daemon.waitFor(10, TimeUnit.SECONDS);
            ProcessHandle.of(vmmPid).ifPresent(ProcessHandle::destroyForcibly);   // our VM, if a step failed
            GrpcVms.deleteTree(run);
            GrpcVms.deleteTree(shm);
        }
    }
}
