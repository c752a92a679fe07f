package dev.basalt.bench;

import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.core.SandboxManager;
import java.util.ArrayList;
import java.util.List;

/** Fork of one running sandbox: to one child answering exec, and into ten. */
final class ForkBench {
    private final SandboxManager manager;

    ForkBench(SandboxManager manager) {
        this.manager = manager;
    }

    void run(Report report) {
        SandboxInfo parent = manager.create(SandboxSpec.defaults());
        try {
            manager.exec(parent.id(), ExecRequest.of("sh", "-c", "echo state > /root/state"));
            List<Double> one = new ArrayList<>();
            List<Double> forkCall = new ArrayList<>();
            List<Double> firstExecCpu = new ArrayList<>();
            for (int i = 0; i < 9; i++) {
                long start = System.nanoTime();
                SandboxInfo child = manager.fork(parent.id(), 1).getFirst();
                long ready = System.nanoTime();
                long cpuBefore = Timing.cpuMillis(child.vmmPid());
                manager.exec(child.id(), ExecRequest.of("true"));
                long end = System.nanoTime();
                firstExecCpu.add((double) (Timing.cpuMillis(child.vmmPid()) - cpuBefore));
                one.add((end - start) / 1e6);
                forkCall.add((ready - start) / 1e6);
                manager.remove(child.id());
            }
            Stats s = Stats.of(one);
            report.add("fork → child answering exec", String.format("%.1f ms", s.median()), "≤ 150 ms", s.median() <= 150);
            report.add("  … of which fork() until the child is READY", String.format("%.1f ms", Stats.of(forkCall).median()),
                    "report", null);
            report.add("  … QEMU CPU of the child's first `exec true`",
                    String.format("%.0f ms", Stats.of(firstExecCpu).median()), "report", null);

            long start = System.nanoTime();
            List<SandboxInfo> ten = manager.fork(parent.id(), 10);
            for (SandboxInfo c : ten) {
                manager.exec(c.id(), ExecRequest.of("true"));
            }
            double total = (System.nanoTime() - start) / 1e6;
            report.add("fork into 10, all answering exec", String.format("%.0f ms total", total), "report", null);
            ten.forEach(c -> manager.remove(c.id()));
        } finally {
            manager.remove(parent.id());
        }
    }
}
