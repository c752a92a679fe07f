package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.vmm.Hypervisors;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A fork reads every page of a template clone's RAM, which fills the holes of the template's
 * memory file on /dev/shm; {@link TemplateCompactor} gives them back without disturbing the VMs
 * that map the file. Its own manager and directories, so the template is this test's alone.
 */
class TemplateCompactionTest {
    private static final long MIB = 1024;   // in KiB

    @Test
    void zeroPagesAForkReadInAreGivenBackWhileClonesRunAndWhenTheManagerCloses() throws Exception {
        String name = "basalt-test-compact-" + ProcessHandle.current().pid();
        ManagerConfig config = RealVms.config().withRunRoot(Path.of("/tmp", name))
                .withStateDir(Path.of("/tmp", name + "-state")).withShmDir(Path.of("/dev/shm", name));
        Path memory;
        long before;
        try {
            try (SandboxManager m = new SandboxManager(config, Hypervisors.detect())) {
                SandboxInfo parent = m.create(SandboxSpec.defaults());
                sh(m, parent.id(), "echo from-parent > /root/p");
                memory = config.shmDir().resolve("templates")
                        .resolve(parent.origin().substring("template:".length())).resolve("memory.ram");
                before = allocatedKib(memory);

                SandboxInfo child = m.fork(parent.id(), 1).getFirst();
                long grown = allocatedKib(memory);
                assertThat(grown).as("the fork's save read the template's holes in (KiB; before: %d)", before)
                        .isGreaterThan(before + 64 * MIB);

                TemplateCompactor.compact(memory);
                assertThat(allocatedKib(memory)).as("after compaction (KiB; before the fork: %d)", before)
                        .isLessThan(before + 8 * MIB);
                // nothing that maps the file noticed
                assertThat(sh(m, child.id(), "cat /root/p")).isEqualTo("from-parent\n");
                assertThat(sh(m, parent.id(), "echo ok")).isEqualTo("ok\n");
                SandboxInfo clone = m.create(SandboxSpec.defaults());
                assertThat(m.exec(clone.id(), ExecRequest.of("cat", "/root/p")).exit().success()).isFalse();
                assertThat(sh(m, clone.id(), "head -c 1000000 /dev/zero | wc -c")).isEqualTo("1000000\n");

                SandboxInfo second = m.fork(parent.id(), 1).getFirst();
                assertThat(sh(m, second.id(), "cat /root/p")).isEqualTo("from-parent\n");
                assertThat(allocatedKib(memory)).isGreaterThan(before + 64 * MIB);
            }   // closing the manager runs the compaction the second fork scheduled
            assertThat(allocatedKib(memory)).as("after the manager closed").isLessThan(before + 8 * MIB);
        } finally {
            RunRoot.deleteTree(config.runRoot());
            RunRoot.deleteTree(config.stateDir());
            RunRoot.deleteTree(config.shmDir());
        }
    }

    private static String sh(SandboxManager m, String id, String script) {
        var r = m.exec(id, ExecRequest.of("sh", "-c", script));
        assertThat(r.exit().success()).as("`%s`: %s", script, r.stderrText()).isTrue();
        return r.stdoutText();
    }

    /** Memory the file holds on tmpfs, in KiB (du counts allocated blocks, not the size). */
    private static long allocatedKib(Path file) throws IOException, InterruptedException {
        Process du = new ProcessBuilder("du", "-k", file.toString()).redirectErrorStream(true).start();
        String out = new String(du.getInputStream().readAllBytes()).strip();
        assertThat(du.waitFor()).as(out).isZero();
        return Long.parseLong(out.split("\\s+")[0]);
    }
}
