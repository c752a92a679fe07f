package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.vmm.Hypervisors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The serial console on real VMs: a guest flooding it ({@code yes > /dev/ttyS0}) leaves a log of at
 * most its ring's size on disk with the newest lines in it, and a guest that writes to its console
 * while no host reads it (basaltd gone) is not held up: QEMU drops the bytes.
 */
class ConsoleLogTest {
    private static final long RING = 64 * 1024;

    @Test
    void aFloodedConsoleStaysWithinItsRingAndAnUnreadOneHoldsNobodyUp(@TempDir Path tmp) throws Exception {
        System.setProperty("basalt.console.bytes", Long.toString(RING));
        ManagerConfig config = RealVms.config().withRunRoot(tmp.resolve("run")).withStateDir(tmp.resolve("state"))
                .withShmDir(tmp.resolve("shm")).withVmsDieWithManager(false);
        String id;
        try {
            try (SandboxManager m = new SandboxManager(config, Hypervisors.detect())) {
                SandboxInfo s = m.create(SandboxSpec.defaults());
                id = s.id();
                long start = System.nanoTime();
                var r = m.exec(id, ExecRequest.of("sh", "-c", "yes 'console flood' > /dev/ttyS0")
                        .withTimeout(Duration.ofSeconds(4)));
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(15));
                assertThat(r.exit().toString()).contains("TimedOut");
                Path dir = config.runRoot().resolve(id);
                long onDisk = Files.size(dir.resolve("console.log")) + Files.size(dir.resolve("console.log.1"));
                assertThat(onDisk).as("console bytes on disk after the flood").isBetween(RING / 2, RING);
                assertThat(m.consoleLog(id, 1000).lines().filter(l -> l.strip().equals("console flood")).count()).isGreaterThan(10);
                // a writer that outlives this manager: 200 KB into the console while nobody reads it,
                // timed in the guest (had the UART waited for a reader, it would take until the next one)
                m.exec(id, ExecRequest.of("sh", "-c", "setsid sh -c 'sleep 1; a=$(date +%s); "
                        + "dd if=/dev/zero of=/dev/ttyS0 bs=1k count=200 2>/dev/null; "
                        + "echo $(( $(date +%s) - a )) > /root/unread-seconds' </dev/null >/dev/null 2>&1 &"));
            }
            Thread.sleep(8000);
            try (SandboxManager m = new SandboxManager(config, Hypervisors.detect())) {
                assertThat(m.awaitReattached(Duration.ofSeconds(30))).isTrue();
                long start = System.nanoTime();
                assertThat(m.exec(id, ExecRequest.of("echo", "answering")).stdoutText()).isEqualTo("answering\n");
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
                assertThat(Integer.parseInt(m.exec(id, ExecRequest.of("cat", "/root/unread-seconds")).stdoutText().strip()))
                        .as("seconds to write 200 KB to a console nobody reads").isLessThanOrEqualTo(4);
                m.remove(id);
            }
        } finally {
            System.clearProperty("basalt.console.bytes");
            RunRoot.deleteTree(config.shmDir());
        }
    }
}
