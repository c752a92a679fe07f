package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.SandboxState;
import dev.basalt.vmm.Hypervisors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Template memory on a tmpfs that is too small: a template file grows as clones and saves fault its
 * holes in, and a QEMU whose mapping cannot grow dies of SIGBUS. Before the checks, a fork on a
 * 100 MiB tmpfs killed its parent (QEMU exit code 135). Now each such operation is refused first,
 * with the room it needs, and nothing is lost. Mounts its own small tmpfs (needs root, as bin/test).
 */
class ShmRoomTest {

    @Test
    void operationsThatCouldOverflowTheShmFilesystemAreRefusedAndLoseNothing() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "mounting a small tmpfs needs root");
        String name = "basalt-test-shm-" + ProcessHandle.current().pid();
        Path mount = Files.createDirectories(Path.of("/tmp", name + "-mnt"));
        ManagerConfig config = RealVms.config().withRunRoot(Path.of("/tmp", name))
                .withStateDir(Path.of("/tmp", name + "-state")).withShmDir(mount.resolve("shm"));
        try {
            mountTmpfs(mount, 100);
            try (SandboxManager m = new SandboxManager(config, Hypervisors.detect())) {
                assertThatThrownBy(() -> m.create(SandboxSpec.defaults()))
                        .isInstanceOf(BasaltException.ResourceExhausted.class)
                        .hasMessageContaining("the template of image default (256 MiB")
                        .hasMessageContaining("needs up to 272 MiB free in " + mount)
                        .hasMessageContaining("--shm-dir");
                assertThat(m.list()).isEmpty();
                // --cold does not need a template
                SandboxInfo cold = m.create(SandboxSpec.defaults().withColdBoot(true));
                assertThat(m.exec(cold.id(), ExecRequest.of("true")).exit().success()).isTrue();
                m.remove(cold.id());
            }
            unmount(mount);

            mountTmpfs(mount, 320);   // the template fits, a fork's worst case does not
            try (SandboxManager m = new SandboxManager(config, Hypervisors.detect())) {
                SandboxInfo parent = m.create(SandboxSpec.defaults());
                m.exec(parent.id(), ExecRequest.of("sh", "-c", "echo kept > /root/k"));
                assertThatThrownBy(() -> m.fork(parent.id(), 1))
                        .isInstanceOf(BasaltException.ResourceExhausted.class)
                        .hasMessageContaining("forking sandbox " + parent.id() + " needs up to");
                assertThat(m.inspect(parent.id()).state()).isEqualTo(SandboxState.READY);
                assertThat(m.exec(parent.id(), ExecRequest.of("cat", "/root/k")).stdoutText()).isEqualTo("kept\n");
                assertThat(m.list()).hasSize(1);
                m.checkpoint(parent.id(), "fits");   // its state goes to the state directory: this one fits
                assertThat(m.exec(parent.id(), ExecRequest.of("cat", "/root/k")).stdoutText()).isEqualTo("kept\n");
                m.deleteSnapshot("fits");
                m.remove(parent.id());
            }
        } finally {
            unmount(mount);
            RunRoot.deleteTree(config.runRoot());
            RunRoot.deleteTree(config.stateDir());
            Files.deleteIfExists(mount);
        }
    }

    private static void mountTmpfs(Path dir, int mib) throws IOException, InterruptedException {
        run("mount", "-t", "tmpfs", "-o", "size=" + mib + "m", "tmpfs", dir.toString());
    }

    private static void unmount(Path dir) throws IOException, InterruptedException {
        if (Files.readString(Path.of("/proc/mounts")).contains(" " + dir + " ")) {
            run("umount", dir.toString());
        }
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("%s: %s", String.join(" ", command), out).isZero();
    }
}
