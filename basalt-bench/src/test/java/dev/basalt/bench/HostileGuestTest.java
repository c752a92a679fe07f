package dev.basalt.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.SandboxSpec;
import dev.basalt.core.ImageCatalog;
import dev.basalt.grpc.RemoteSandboxes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hostile-guest suite on real VMs, against a real basaltd with a capped heap (256 MiB, and it
 * exits rather than run out): every attack of {@link HostileGuests} in a fresh sandbox, while a
 * neighbour sandbox answers {@code exec true}. The neighbour never fails; the daemon lives and stays
 * small; the attacked VM stays within its memory; the attacked sandbox survives or fails cleanly —
 * FAILED with a reason within seconds, never READY and hanging; the log gets a handful of lines
 * about it; its console log stays within its ring.
 */
class HostileGuestTest {
    private static final Logger log = LoggerFactory.getLogger(HostileGuestTest.class);
    private static final Duration LENGTH = Duration.ofSeconds(5);
    private static final int VM_OVERHEAD_MIB = 256;    // SandboxCgroups.OVERHEAD_MIB: QEMU beside the guest

    @Test
    void hostileGuestsHarmNeitherTheHostNorTheirNeighbour(@TempDir Path tmp) throws Exception {
        byte[] tool = Files.readAllBytes(HostileGuests.buildTool(tmp));
        List<HostileGuests.Result> results = new ArrayList<>();
        List<String> neighbourFailures;
        List<Double> idle;
        try (DaemonProcess daemon = new DaemonProcess(ImageCatalog.requireBuiltImages(),
                List.of("-Xmx256m", "-XX:+ExitOnOutOfMemoryError", "--enable-native-access=ALL-UNNAMED"))) {
            daemon.start();
            try (RemoteSandboxes client = daemon.client()) {
                String neighbour = client.create(SandboxSpec.defaults().withLabels(Map.of("role", "neighbour"))).id();
                try (NeighbourProbe probe = new NeighbourProbe(client, neighbour)) {
                    Thread.sleep(2000);
                    probe.phase("idle");
                    Thread.sleep(3000);
                    idle = probe.millis("idle");
                    log.info("idle: neighbour p50/p99 {}/{} ms", Math.round(NeighbourProbe.quantile(idle, 0.5)),
                            Math.round(NeighbourProbe.quantile(idle, 0.99)));
                    for (HostileGuests.Attack attack : HostileGuests.all(LENGTH)) {
                        HostileGuests.Result r = HostileGuests.run(daemon, client, probe, attack, tool);
                        log.info("{}: {} after {} ms{}; neighbour p50/p99 {}/{} ms, {} failures; {} log lines; "
                                        + "console {} B; VM peak {} MiB; basaltd peak {} MiB; host available >= {} MiB",
                                attack.name(), r.outcome(), r.settledAfter().toMillis(),
                                r.failure() == null ? "" : " (" + r.failure().lines().findFirst().orElse("") + ")",
                                Math.round(NeighbourProbe.quantile(r.neighbourMillis(), 0.5)),
                                Math.round(NeighbourProbe.quantile(r.neighbourMillis(), 0.99)),
                                r.neighbourFailures().size(), r.logLines(), r.consoleBytes(), r.vmPeakMib(),
                                r.daemonPeakMib(), r.hostMinAvailableMib());
                        results.add(r);
                        assertThat(daemon.isAlive()).as("basaltd after %s; its log:\n%s", attack.name(),
                                daemon.logText()).isTrue();
                    }
                    neighbourFailures = probe.failures();
                    client.remove(neighbour);
                }
                assertThat(client.list()).isEmpty();
            }
            assertThat(sizeOf(daemon.runDir())).as("bytes left in the run directory").isLessThan(1 << 20);
        }

        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(idle).as("idle neighbour samples").isNotEmpty();
        soft.assertThat(neighbourFailures).as("the neighbour's failed calls").isEmpty();
        for (HostileGuests.Result r : results) {
            String name = r.attack().name();
            soft.assertThat(r.outcome()).as("%s: outcome", name).isNotEqualTo("HUNG");
            if (r.attack().expected() != HostileGuests.Outcome.EITHER) {
                soft.assertThat(r.outcome()).as("%s: outcome (failure: %s)", name, r.failure())
                        .isEqualTo(r.attack().expected().name());
            }
            if ("FAILS".equals(r.outcome()) && r.attack().needsTool()) {
                soft.assertThat(r.failure()).as("%s: reason", name).contains("agent channel failed");
                soft.assertThat(r.settledAfter()).as("%s: time to FAILED", name).isLessThan(Duration.ofSeconds(15));
            }
            soft.assertThat(r.neighbourMillis()).as("%s: neighbour samples", name).isNotEmpty();
            soft.assertThat(NeighbourProbe.quantile(r.neighbourMillis(), 0.99)).as("%s: neighbour p99 ms", name)
                    .isLessThan(10_000);
            soft.assertThat(r.logLines()).as("%s: log lines about the sandbox", name).isLessThanOrEqualTo(20);
            soft.assertThat(r.consoleBytes()).as("%s: console log bytes", name).isLessThanOrEqualTo(1 << 20);
            soft.assertThat(r.vmPeakMib()).as("%s: VM resident MiB", name)
                    .isLessThanOrEqualTo(SandboxSpec.defaults().memoryMib() + VM_OVERHEAD_MIB);
            soft.assertThat(r.daemonPeakMib()).as("%s: basaltd peak resident MiB", name).isLessThan(1024);
        }
        soft.assertAll();
    }

    private static long sizeOf(Path dir) throws Exception {
        if (!Files.exists(dir)) {
            return 0;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
