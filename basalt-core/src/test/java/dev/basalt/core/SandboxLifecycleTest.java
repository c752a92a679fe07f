package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.ExecResult;
import dev.basalt.api.Sandbox;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.SandboxState;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Create → READY → exec → stop → remove on a real VM, and what is left afterwards (nothing). */
@ExtendWith(RealVms.class)
class SandboxLifecycleTest {

    @Test
    void createExecStopRemove(SandboxManager manager) {
        SandboxInfo info = manager.create(SandboxSpec.defaults().withLabels(Map.of("test", "lifecycle")));
        String id = info.id();
        assertThat(info.state()).isEqualTo(SandboxState.READY);
        assertThat(info.accel()).isIn("tcg", "kvm");
        assertThat(info.vmmPid()).isPositive();
        assertThat(info.readyAt()).isPresent();
        assertThat(manager.list()).extracting(SandboxInfo::id).contains(id);
        long pid = info.vmmPid();
        var dir = RealVms.config().runRoot().resolve(id);
        assertThat(dir).isDirectory();

        ExecResult result = manager.exec(id, ExecRequest.of("sh", "-c", "echo hello; echo oops >&2; exit 3"));
        assertThat(result.stdoutText()).isEqualTo("hello\n");
        assertThat(result.stderrText()).isEqualTo("oops\n");
        assertThat(result.exit().shellCode()).isEqualTo(3);

        assertThat(manager.exec(id, ExecRequest.of("hostname")).stdoutText().strip()).isEqualTo(id);
        assertThat(manager.consoleLog(id, 100_000)).isNotNull();

        SandboxInfo stopped = manager.stop(id, Duration.ofSeconds(5));
        assertThat(stopped.state()).isEqualTo(SandboxState.STOPPED);
        assertThat(ProcessHandle.of(pid)).isEmpty();
        assertThatThrownBy(() -> manager.exec(id, ExecRequest.of("true")))
                .isInstanceOf(BasaltException.WrongState.class)
                .hasMessageContaining("STOPPED");

        manager.remove(id);
        assertThatThrownBy(() -> manager.inspect(id)).isInstanceOf(BasaltException.NotFound.class);
        assertThat(Files.exists(dir)).isFalse();
    }

    @Test
    void sandboxHandleRemovesOnClose(SandboxManager manager) {
        String id;
        long pid;
        try (Sandbox sandbox = Sandbox.create(manager, SandboxSpec.defaults().withVcpus(2).withMemoryMib(192))) {
            id = sandbox.id();
            pid = sandbox.inspect().vmmPid();
            assertThat(sandbox.exec("nproc").stdoutText().strip()).isEqualTo("2");
            assertThat(sandbox.exec("sh", "-c", "grep MemTotal /proc/meminfo").stdoutText()).contains("kB");
        }
        assertThatThrownBy(() -> manager.inspect(id)).isInstanceOf(BasaltException.NotFound.class);
        assertThat(ProcessHandle.of(pid)).isEmpty();
    }

    @Test
    void vmThatDiesBecomesFailedWithReason(SandboxManager manager) throws Exception {
        SandboxInfo info = manager.create(SandboxSpec.defaults());
        ProcessHandle.of(info.vmmPid()).orElseThrow().destroyForcibly();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (manager.inspect(info.id()).state() != SandboxState.FAILED && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        SandboxInfo failed = manager.inspect(info.id());
        assertThat(failed.state()).isEqualTo(SandboxState.FAILED);
        assertThat(failed.failure()).get().asString().contains("VM exited unexpectedly");
        assertThatThrownBy(() -> manager.exec(info.id(), ExecRequest.of("true")))
                .isInstanceOf(BasaltException.WrongState.class)
                .hasMessageContaining("FAILED");
        manager.remove(info.id());
    }

    @Test
    void asyncCreateReturnsAtOnceAndKeepsAFailureWithItsReason(SandboxManager manager, @org.junit.jupiter.api.io.TempDir
            java.nio.file.Path tmp) throws Exception {
        SandboxInfo starting = manager.createAsync(SandboxSpec.defaults());
        assertThat(starting.state()).isIn(SandboxState.STARTING, SandboxState.READY);
        ExecTest.waitFor(() -> manager.inspect(starting.id()).state() == SandboxState.READY);
        assertThat(manager.exec(starting.id(), ExecRequest.of("true")).exit().success()).isTrue();
        manager.remove(starting.id());

        java.nio.file.Path garbage = java.nio.file.Files.write(tmp.resolve("initrd"), new byte[4096]);
        SandboxInfo doomed = manager.createAsync(SandboxSpec.defaults().withInitrd(garbage));
        try {
            assertThat(doomed.state()).isEqualTo(SandboxState.STARTING);
            ExecTest.waitFor(() -> manager.inspect(doomed.id()).state() == SandboxState.FAILED);
            // whichever notices first (the VM's exit or the boot recipe) words it; the console says why
            assertThat(manager.inspect(doomed.id()).failure()).get().asString()
                    .containsAnyOf("failed to boot", "VM exited").contains("Kernel panic");
        } finally {
            manager.remove(doomed.id());
        }
        assertThatThrownBy(() -> manager.createAsync(SandboxSpec.defaults().withImage("nope")))
                .isInstanceOf(BasaltException.InvalidArgument.class);
    }

    @Test
    void manySandboxesAtOnce(SandboxManager manager) throws Exception {
        int n = 4;
        try (var executor = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            var futures = java.util.stream.IntStream.range(0, n)
                    .mapToObj(i -> executor.submit(() -> {
                        try (Sandbox s = Sandbox.create(manager, SandboxSpec.defaults())) {
                            return s.exec("sh", "-c", "echo " + i).stdoutText().strip();
                        }
                    })).toList();
            for (int i = 0; i < n; i++) {
                assertThat(futures.get(i).get()).isEqualTo(Integer.toString(i));
            }
        }
    }
}
