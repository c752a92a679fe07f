package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A sandbox's age counts from when a create handed it out, not from when a warm pool made it (real VMs). */
class HandedOutAtTest {

    @Test
    void aWarmPoolSandboxIsAsOldAsTheCreateThatTookIt() throws Exception {
        String name = "basalt-handout-" + ProcessHandle.current().pid();
        ManagerConfig config = RealVms.config().withRunRoot(Path.of("/tmp", name))
                .withStateDir(Path.of("/tmp", name + "-state")).withShmDir(Path.of("/dev/shm", name))
                .withPools(List.of(new PoolConfig(SandboxSpec.defaults(), 1, 0)));
        try (SandboxManager manager = new SandboxManager(config, dev.basalt.vmm.Hypervisors.detect())) {
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (manager.pools().getFirst().warmReady() < 1) {
                assertThat(System.nanoTime()).as("the warm pool fills within 120 s").isLessThan(deadline);
                Thread.sleep(50);
            }
            Thread.sleep(1100);                                      // the pooled sandbox ages while it waits
            SandboxInfo taken = manager.create(SandboxSpec.defaults());
            assertThat(taken.origin()).startsWith("template:");
            assertThat(Duration.between(taken.createdAt(), taken.handedOutAt())).as("made, then waited in the pool")
                    .isGreaterThanOrEqualTo(Duration.ofSeconds(1));
            assertThat(manager.inspect(taken.id()).handedOutAt()).isEqualTo(taken.handedOutAt());
            SandboxInfo made = manager.create(SandboxSpec.defaults().withColdBoot(true));
            assertThat(made.handedOutAt()).as("made for its create").isEqualTo(made.createdAt());
            manager.remove(taken.id());
            manager.remove(made.id());
        } finally {
            RunRoot.deleteTree(config.runRoot());
            RunRoot.deleteTree(config.stateDir());
            RunRoot.deleteTree(config.shmDir());
        }
    }
}
