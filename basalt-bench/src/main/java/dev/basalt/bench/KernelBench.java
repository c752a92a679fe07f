package dev.basalt.bench;

import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.core.SandboxManager;
import java.util.ArrayList;
import java.util.List;

/** The own guest kernel against Debian's: cold create → first exec, and QEMU RSS of an idle sandbox. */
final class KernelBench {
    private final SandboxManager manager;
    private final int boots;

    KernelBench(SandboxManager manager, int boots) {
        this.manager = manager;
        this.boots = boots;
    }

    void run(Report report) {
        measure(report, "default", "own kernel", 0.5, 130);
        measure(report, "debian", "Debian cloud kernel", Double.NaN, Double.NaN);
    }

    private void measure(Report report, String image, String label, double bootTarget, double rssTarget) {
        SandboxSpec spec = SandboxSpec.defaults().withImage(image).withColdBoot(true);
        List<Double> cold = new ArrayList<>();
        List<Double> rss = new ArrayList<>();
        for (int i = 0; i <= boots; i++) {
            long start = System.nanoTime();
            SandboxInfo info = manager.create(spec);
            try {
                manager.exec(info.id(), ExecRequest.of("true"));
                double seconds = (System.nanoTime() - start) / 1e9;
                if (i > 0) {                       // the first boot warms caches and is not counted
                    cold.add(seconds);
                    Timing.sleep(1500);            // idle, then measure what the VM keeps
                    rss.add(Timing.rssMib(info.vmmPid()));
                }
            } finally {
                manager.remove(info.id());
            }
        }
        Stats c = Stats.of(cold);
        Stats r = Stats.of(rss);
        boolean hasTargets = !Double.isNaN(bootTarget);
        report.add("cold create → first exec, " + label, String.format("%.3f s", c.median()),
                hasTargets ? "≤ " + bootTarget + " s" : "report", hasTargets ? c.median() <= bootTarget : null);
        report.add("QEMU RSS of an idle sandbox, " + label, String.format("%.0f MB", r.median()),
                hasTargets ? "≤ " + (int) rssTarget + " MB" : "report", hasTargets ? r.median() <= rssTarget : null);
    }
}
