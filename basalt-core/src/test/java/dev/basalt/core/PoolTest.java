package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.PoolStats;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.vmm.Hypervisors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Warm and restore pools with real VMs. */
class PoolTest {

    @Test
    void warmPoolHandsOverReadySandboxesAndRestorePoolServesTheRest() throws Exception {
        Path runRoot = Files.createTempDirectory("basalt-pool-test");
        SandboxSpec spec = SandboxSpec.defaults();
        var config = privateDirs(runRoot).withPools(List.of(new PoolConfig(spec, 2, 1)));
        try (SandboxManager m = new SandboxManager(config, Hypervisors.detect())) {
            awaitPools(m, 2, 1);
            List<Long> pooled = vmmsUnder(runRoot);
            assertThat(pooled).hasSize(3);
            if (root) {
                pooled.forEach(pid -> assertThat(threadPolicies(pid)).as("pooled VMs wait under SCHED_IDLE")
                        .isNotEmpty().containsOnly(SCHED_IDLE));
            }
            long start = System.nanoTime();
            SandboxInfo warm = m.create(spec.withLabels(Map.of("k", "v")));
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertThat(took).as("acquire from the warm pool").isLessThan(Duration.ofMillis(100));
            assertThat(awaitPolicies(warm.vmmPid(), SCHED_OTHER)).as("a handed-out VM runs under SCHED_OTHER")
                    .isNotEmpty().containsOnly(SCHED_OTHER);
            assertThat(warm.labels()).containsEntry("k", "v");
            assertThat(m.list()).extracting(SandboxInfo::id).containsExactly(warm.id());
            assertThat(m.exec(warm.id(), ExecRequest.of("hostname")).stdoutText().strip()).isEqualTo(warm.id());

            SandboxInfo second = m.create(spec);
            SandboxInfo third = m.create(spec);   // warm pool empty by now unless refilled: either way READY
            assertThat(m.exec(third.id(), ExecRequest.of("true")).exit().success()).isTrue();
            for (SandboxInfo s : List.of(second, third)) {
                assertThat(awaitPolicies(s.vmmPid(), SCHED_OTHER)).as("sandbox %s", s.origin()).isNotEmpty()
                        .containsOnly(SCHED_OTHER);
            }
            PoolStats stats = m.pools().getFirst();
            assertThat(stats.hits()).isGreaterThanOrEqualTo(2);
            assertThat(stats.warmTarget()).isEqualTo(2);
            assertThat(stats.standbyTarget()).isEqualTo(1);
            List.of(warm, second, third).forEach(s -> m.remove(s.id()));
        }
        try (var left = Files.list(runRoot)) {
            assertThat(left.toList()).as("pooled VMs are removed with the manager").isEmpty();
        }
    }

    @Test
    void closingWhilePoolsFillLeavesNothingBehind() throws Exception {
        for (long afterMillis : new long[] {300, 1500}) {   // while the template boots; while items are made
            Path runRoot = Files.createTempDirectory("basalt-pool-test");
            var config = privateDirs(runRoot).withPools(List.of(new PoolConfig(SandboxSpec.defaults(), 1, 1)));
            SandboxManager m = new SandboxManager(config, Hypervisors.detect());
            Thread.sleep(afterMillis);
            long start = System.nanoTime();
            m.close();
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("close does not wait for items being made")
                    .isLessThan(Duration.ofSeconds(10));
            assertThat(vmmsUnder(runRoot)).as("no QEMU left after closing at %d ms", afterMillis).isEmpty();
            try (var left = Files.walk(runRoot)) {
                assertThat(left.filter(p -> !p.equals(runRoot)).toList()).as("nothing left in the run directory").isEmpty();
            }
        }
    }

    @Test
    void poolsThatCannotFitAreRefused() throws Exception {
        Path runRoot = Files.createTempDirectory("basalt-pool-test");
        var config = privateDirs(runRoot).withPools(List.of(new PoolConfig(SandboxSpec.defaults().withMemoryMib(65536), 200, 0)));
        assertThatThrownBy(() -> new SandboxManager(config, Hypervisors.detect()))
                .isInstanceOf(BasaltException.ResourceExhausted.class).hasMessageContaining("pools");
        assertThatThrownBy(() -> new PoolConfig(SandboxSpec.defaults(), -1, 0))
                .isInstanceOf(BasaltException.InvalidArgument.class);
        assertThatThrownBy(() -> new PoolConfig(SandboxSpec.defaults().withColdBoot(true), 1, 0))
                .isInstanceOf(BasaltException.InvalidArgument.class);
    }

    private final List<Path> dirs = new java.util.ArrayList<>();

    /** A configuration whose run, state and template directories are this test's own; deleted after it. */
    private ManagerConfig privateDirs(Path runRoot) {
        String name = runRoot.getFileName().toString();
        var config = RealVms.config().withRunRoot(runRoot).withStateDir(runRoot.resolveSibling(name + "-state"))
                .withShmDir(Path.of("/dev/shm", name));
        dirs.addAll(List.of(config.runRoot(), config.stateDir(), config.shmDir()));
        return config;
    }

    @AfterEach
    void deleteDirs() {
        dirs.forEach(RunRoot::deleteTree);
    }

    private final boolean root = "root".equals(System.getProperty("user.name"));

    /** The QEMU processes started by this JVM whose command line names a directory under {@code runRoot}. */
    private static List<Long> vmmsUnder(Path runRoot) {
        return ProcessHandle.current().descendants()
                .filter(p -> p.info().command().map(c -> c.contains("qemu-system")).orElse(false)   // not a launcher
                        && p.info().commandLine().map(c -> c.contains(runRoot.toString())).orElse(false))
                .map(ProcessHandle::pid).toList();
    }

    private static final int SCHED_OTHER = 0;
    private static final int SCHED_IDLE = 5;

    /** The threads' scheduling policies once all are {@code policy}, or as they are after a second. */
    private static List<Integer> awaitPolicies(long pid, int policy) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
        List<Integer> policies = threadPolicies(pid);
        while (!policies.stream().allMatch(p -> p == policy) && System.nanoTime() < deadline) {
            Thread.sleep(5);
            policies = threadPolicies(pid);
        }
        return policies;
    }

    /** The scheduling policy of every thread of process {@code pid} (field 41 of /proc/pid/task/tid/stat). */
    private static List<Integer> threadPolicies(long pid) {
        try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            return tasks.map(t -> {
                try {
                    String stat = Files.readString(t.resolve("stat"));
                    return Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[38]);
                } catch (java.io.IOException e) {
                    return null;     // the thread ended meanwhile
                }
            }).filter(java.util.Objects::nonNull).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void awaitPools(SandboxManager m, int warm, int standby) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < deadline) {
            PoolStats p = m.pools().getFirst();
            if (p.warmReady() >= warm && p.standbyReady() >= standby) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("pools not filled within 90 s: " + m.pools());
    }
}
