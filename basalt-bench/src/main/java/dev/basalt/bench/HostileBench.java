package dev.basalt.bench;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxSpec;
import dev.basalt.grpc.RemoteSandboxes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The hostile-guest figures: a neighbour sandbox's {@code exec true} latency (p50 / p99) while
 * another sandbox runs each attack of {@link HostileGuests}, against its idle latency; and how
 * long after basaltd was killed in the middle of a checkpoint (the VM paused, the state half
 * published) the sandbox answers again, the daemon's start included.
 */
final class HostileBench {
    private static final Duration LENGTH = Duration.ofSeconds(8);

    private final Path images;
    private final Path work;

    HostileBench(Path images, Path work) {
        this.images = images;
        this.work = work;
    }

    void run(Report report) throws Exception {
        byte[] tool = Files.readAllBytes(HostileGuests.buildTool(Files.createDirectories(work.resolve("hostile"))));
        try (DaemonProcess daemon = new DaemonProcess(images, List.of("-Xmx1g", "--enable-native-access=ALL-UNNAMED"))) {
            daemon.start();
            try (RemoteSandboxes client = daemon.client()) {
                String neighbour = client.create(SandboxSpec.defaults()).id();
                try (NeighbourProbe probe = new NeighbourProbe(client, neighbour)) {
                    Thread.sleep(2000);
                    probe.phase("idle");
                    Thread.sleep(LENGTH);
                    List<Double> idle = probe.millis("idle");
                    double idleP99 = NeighbourProbe.quantile(idle, 0.99);
                    report.add("neighbour exec true p50 / p99, idle", millis(idle), "report", null);
                    for (HostileGuests.Attack attack : HostileGuests.all(LENGTH)) {
                        HostileGuests.Result r = HostileGuests.run(daemon, client, probe, attack, tool);
                        double p99 = NeighbourProbe.quantile(r.neighbourMillis(), 0.99);
                        report.add("  … while " + attack.name() + " (" + r.outcome().toLowerCase() + ")",
                                millis(r.neighbourMillis()), "p99 ≤ 2x idle",
                                r.neighbourFailures().isEmpty() && p99 <= 2 * idleP99);
                    }
                }
                client.remove(neighbour);
            }
        }
        killedDuringCheckpoint(report);
    }

    /** basaltd stopped (test hook) with the VM paused for a checkpoint, killed, started again. */
    private void killedDuringCheckpoint(Report report) throws Exception {
        try (DaemonProcess daemon = new DaemonProcess(images, List.of("--enable-native-access=ALL-UNNAMED"))) {
            daemon.start("-Dbasalt.test.crashAt=checkpoint-saved");
            String id;
            try (RemoteSandboxes client = daemon.client()) {
                id = client.create(SandboxSpec.defaults().withMemoryMib(512)).id();
                client.exec(id, ExecRequest.of("sh", "-c", "head -c 100000000 /dev/urandom > /root/data"));
                Thread.ofVirtual().start(() -> {
                    try {
                        client.checkpoint(id, "interrupted");
                    } catch (BasaltException e) {
                        // the daemon is killed under it
                    }
                });
                if (!daemon.awaitLog("basalt-crash-point checkpoint-saved", Duration.ofMinutes(2))) {
                    throw new IllegalStateException("basaltd never reached the checkpoint's window: " + daemon.logText());
                }
                daemon.kill();
            }
            long start = System.nanoTime();
            daemon.start();
            double listening = (System.nanoTime() - start) / 1e6;
            try (RemoteSandboxes client = daemon.client()) {
                while (true) {
                    try {
                        if (client.exec(id, ExecRequest.of("true")).exit().success()) {
                            break;
                        }
                    } catch (BasaltException e) {
                        if (System.nanoTime() - start > Duration.ofMinutes(1).toNanos()) {
                            throw e;
                        }
                        Thread.sleep(10);
                    }
                }
                double ms = (System.nanoTime() - start) / 1e6;
                boolean clean = client.snapshots().isEmpty();
                long takeOver = RestartBench.reattachMillis(daemon.logText());
                report.add("basaltd killed during a checkpoint (512 MiB, 100 MB used): restart to listening",
                        String.format("%.0f ms", listening), "report", null);
                report.add("  … to the sandbox answering exec (nothing left of the checkpoint)",
                        String.format("%.0f ms", ms), "report", clean);
                report.add("  … of which the take-over (resume, HELLO, IDENTITY)",
                        takeOver < 0 ? "n/a" : takeOver + " ms", "report", null);
                client.remove(id);
            }
        }
    }

    private static String millis(List<Double> samples) {
        return String.format("%.0f / %.0f ms", NeighbourProbe.quantile(samples, 0.5), NeighbourProbe.quantile(samples, 0.99));
    }
}
