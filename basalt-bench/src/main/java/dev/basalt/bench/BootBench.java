package dev.basalt.bench;

import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.core.GuestImage;
import dev.basalt.core.SandboxManager;
import dev.basalt.vmm.qemu.QemuHypervisor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Cold boot: Basalt's create → first exec answer against a raw QEMU boot of the same image to
 * the agent's first answer. The two variants alternate so that drift hits both alike.
 */
final class BootBench {
    private final SandboxManager manager;
    private final QemuHypervisor qemu;
    private final GuestImage image;
    private final Path work;
    private final int boots;
    private double coldMedianSeconds;

    BootBench(SandboxManager manager, QemuHypervisor qemu, GuestImage image, Path work, int boots) {
        this.manager = manager;
        this.qemu = qemu;
        this.image = image;
        this.work = work;
        this.boots = boots;
    }

    void run(Report report) throws Exception {
        List<Double> raw = new ArrayList<>();
        List<Double> basalt = new ArrayList<>();
        // one warm-up of each, not counted: page cache, JIT
        RawQemuBoot.bootOnce(qemu, image, work);
        coldCreate();
        for (int i = 0; i < boots; i++) {
            raw.add(RawQemuBoot.bootOnce(qemu, image, work));
            basalt.add(coldCreate());
        }
        Stats rawStats = Stats.of(raw);
        Stats basaltStats = Stats.of(basalt);
        double overhead = (basaltStats.median() / rawStats.median() - 1) * 100;
        report.add("raw QEMU boot → first exec answer (baseline)", String.format("%.3f s", rawStats.median()), "", null);
        report.add("cold create → first exec answer", String.format("%.3f s", basaltStats.median()), "≤ 2.0 s",
                basaltStats.median() <= 2.0);
        coldMedianSeconds = basaltStats.median();
        report.add("Basalt overhead over raw QEMU boot", String.format("%+.1f %%", overhead), "≤ 10 %", overhead <= 10);
        report.note(String.format("cold boot samples (s): raw min %.3f max %.3f; Basalt min %.3f max %.3f; n=%d each",
                rawStats.min(), rawStats.max(), basaltStats.min(), basaltStats.max(), boots));
    }

    /** Median cold create → exec of the last {@link #run}, for ratios against faster paths. */
    double coldMedianSeconds() {
        return coldMedianSeconds;
    }

    private double coldCreate() {
        long start = System.nanoTime();
        SandboxInfo info = manager.create(SandboxSpec.defaults().withColdBoot(true));
        try {
            manager.exec(info.id(), ExecRequest.of("true"));
            return (System.nanoTime() - start) / 1e9;
        } finally {
            manager.remove(info.id());
        }
    }
}
