package dev.basalt.bench;

import dev.basalt.api.ExecRequest;
import dev.basalt.core.SandboxManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Round trips over the agent channel of one READY sandbox: ping and {@code exec true}. */
final class AgentBench {
    private final SandboxManager manager;
    private final String id;

    AgentBench(SandboxManager manager, String id) {
        this.manager = manager;
        this.id = id;
    }

    void run(Report report) {
        for (int i = 0; i < 200; i++) {
            manager.ping(id, Duration.ofSeconds(5));
        }
        List<Double> pings = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            pings.add(manager.ping(id, Duration.ofSeconds(5)).toNanos() / 1e6);
        }
        Stats ping = Stats.of(pings);
        report.add("agent ping round trip", String.format("%.3f ms", ping.median()), "≤ 0.3 ms", ping.median() <= 0.3);

        ExecRequest trueCmd = ExecRequest.of("true");
        for (int i = 0; i < 5; i++) {
            manager.exec(id, trueCmd);
        }
        List<Double> execs = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            long start = System.nanoTime();
            manager.exec(id, trueCmd);
            execs.add((System.nanoTime() - start) / 1e6);
        }
        Stats exec = Stats.of(execs);
        report.add("`exec true` round trip", String.format("%.2f ms", exec.median()), "report", null);
    }
}
