package dev.basalt.bench;

import dev.basalt.api.ExecRequest;
import dev.basalt.api.PoolStats;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.core.ManagerConfig;
import dev.basalt.core.PoolConfig;
import dev.basalt.core.SandboxManager;
import dev.basalt.vmm.Hypervisor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Template clones, the restore pool, the warm pool, and many clones at once (PSS). */
final class TemplateBench {
    private static final int RUNS = 15;

    private final SandboxManager manager;
    private final ManagerConfig config;
    private final Hypervisor hypervisor;
    private final double coldSeconds;

    TemplateBench(SandboxManager manager, ManagerConfig config, Hypervisor hypervisor, double coldSeconds) {
        this.manager = manager;
        this.config = config;
        this.hypervisor = hypervisor;
        this.coldSeconds = coldSeconds;
    }

    void run(Report report) throws Exception {
        SandboxSpec spec = SandboxSpec.defaults();
        Timing.createToFirstExecMillis(manager, () -> manager.create(spec));   // makes the template if needed
        List<Double> clone = new ArrayList<>();
        List<Double> firstExec = new ArrayList<>();
        List<Double> firstExecCpu = new ArrayList<>();
        List<Double> secondExec = new ArrayList<>();
        for (int i = 0; i < RUNS; i++) {
            long start = System.nanoTime();
            SandboxInfo info = manager.create(spec);
            try {
                long cpuBefore = Timing.cpuMillis(info.vmmPid());
                long execStart = System.nanoTime();
                manager.exec(info.id(), ExecRequest.of("true"));
                long end = System.nanoTime();
                firstExecCpu.add((double) (Timing.cpuMillis(info.vmmPid()) - cpuBefore));
                clone.add((end - start) / 1e6);
                firstExec.add((end - execStart) / 1e6);
                long secondStart = System.nanoTime();
                manager.exec(info.id(), ExecRequest.of("true"));
                secondExec.add((System.nanoTime() - secondStart) / 1e6);
            } finally {
                manager.remove(info.id());
            }
        }
        Stats c = Stats.of(clone);
        report.add("create from template → first exec answer", String.format("%.1f ms", c.median()), "≤ 50 ms",
                c.median() <= 50);
        // Why: a new QEMU process starts with an empty TCG translation cache, so the clone's first
        // exec translates the guest's fork/exec/exit paths anew (~11,000 blocks); its second does not.
        report.add("  … of which the clone's first `exec true`", String.format("%.1f ms (QEMU CPU %.0f ms)",
                Stats.of(firstExec).median(), Stats.of(firstExecCpu).median()), "report", null);
        report.add("  … the clone's second `exec true`", String.format("%.1f ms", Stats.of(secondExec).median()),
                "report", null);
        report.add("ratio cold boot / create from template", String.format("%.0f×", coldSeconds * 1000 / c.median()),
                "report", null);

        try (SandboxManager pooled = new SandboxManager(config.withPools(List.of(new PoolConfig(spec, 1, 2))), hypervisor)) {
            List<Double> standby = new ArrayList<>();
            List<Double> acquire = new ArrayList<>();
            List<Double> warmFirstExec = new ArrayList<>();
            for (int i = 0; i < RUNS; i++) {
                awaitPools(pooled, 1, 2);
                long start = System.nanoTime();
                SandboxInfo warm = pooled.create(spec);
                acquire.add((System.nanoTime() - start) / 1e6);
                long execStart = System.nanoTime();
                pooled.exec(warm.id(), ExecRequest.of("true"));
                warmFirstExec.add((System.nanoTime() - execStart) / 1e6);
                // the warm pool is empty now: the next create is served by the restore pool
                standby.add(Timing.createToFirstExecMillis(pooled, () -> pooled.create(spec)));
                pooled.remove(warm.id());
            }
            Stats s = Stats.of(standby);
            Stats a = Stats.of(acquire);
            report.add("create with the restore pool → first exec answer", String.format("%.1f ms", s.median()),
                    "≤ 15 ms", s.median() <= 15);
            report.add("warm pool acquire of a READY sandbox", String.format("%.3f ms", a.median()), "≤ 1 ms",
                    a.median() <= 1);
            report.add("  … its first `exec true` answer", String.format("%.1f ms", Stats.of(warmFirstExec).median()),
                    "report", null);
        }
        manyClones(report, spec, 20);
    }

    private void manyClones(Report report, SandboxSpec spec, int n) throws Exception {
        List<SandboxInfo> clones = new ArrayList<>();
        long start = System.nanoTime();
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<SandboxInfo>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                futures.add(executor.submit(() -> {
                    SandboxInfo info = manager.create(spec);
                    manager.exec(info.id(), ExecRequest.of("true"));
                    return info;
                }));
            }
            for (Future<SandboxInfo> f : futures) {
                clones.add(f.get());
            }
            double total = (System.nanoTime() - start) / 1e3 / 1e3;
            int answering = 0;
            for (SandboxInfo c : clones) {
                answering += manager.exec(c.id(), ExecRequest.of("true")).exit().success() ? 1 : 0;
            }
            Stats pss = Stats.of(clones.stream().map(c -> Timing.pssMib(c.vmmPid())).toList());
            report.add(n + " concurrent clones: PSS per clone", String.format("%.1f MB", pss.median()), "≤ 40 MB",
                    pss.median() <= 40);
            report.add(n + " concurrent clones: all answering, total time",
                    String.format("%d/%d in %.0f ms", answering, n, total), "report", answering == n);
        } finally {
            clones.forEach(c -> manager.remove(c.id()));
        }
    }

    static void awaitPools(SandboxManager m, int warm, int standby) {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (System.nanoTime() < deadline) {
            PoolStats p = m.pools().getFirst();
            if (p.warmReady() >= warm && p.standbyReady() >= standby) {
                return;
            }
            Timing.sleep(5);
        }
        throw new IllegalStateException("pools did not fill within 120 s: " + m.pools());
    }
}
