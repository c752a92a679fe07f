package dev.basalt.bench;

import dev.basalt.api.SandboxSpec;
import dev.basalt.core.Containment;
import dev.basalt.core.ManagerConfig;
import dev.basalt.core.SandboxManager;
import dev.basalt.vmm.Hypervisor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What confinement costs: create → first exec answer with every VMM contained (its own uid,
 * namespaces, jail, seccomp, cgroups; the default as root) against the same with
 * {@link Containment#none()}, interleaved in one run, for template clones and cold boots.
 */
final class ContainmentBench {
    private static final int CLONES = 12;
    private static final int BOOTS = 5;

    private final ManagerConfig config;
    private final Hypervisor hypervisor;

    ContainmentBench(ManagerConfig config, Hypervisor hypervisor) {
        this.config = config;
        this.hypervisor = hypervisor;
    }

    void run(Report report) {
        if (config.containment().confinement() == null) {
            report.add("containment overhead", "not measured: VMMs are not confined (not root)", "report", null);
            return;
        }
        // separate run directories, one template cache (the template's key does not depend on containment)
        ManagerConfig bare = config.withContainment(Containment.none()).withRunRoot(config.runRoot().resolveSibling(
                config.runRoot().getFileName() + "-bare")).withStateDir(Path.of(config.stateDir() + "-bare"));
        try (SandboxManager contained = new SandboxManager(config, hypervisor);
             SandboxManager plain = new SandboxManager(bare, hypervisor)) {
            SandboxSpec clone = SandboxSpec.defaults();
            SandboxSpec cold = SandboxSpec.defaults().withColdBoot(true);
            Timing.createToFirstExecMillis(contained, () -> contained.create(clone));   // template, first translations
            Timing.createToFirstExecMillis(plain, () -> plain.create(clone));
            List<Double> withClone = new ArrayList<>();
            List<Double> withoutClone = new ArrayList<>();
            for (int i = 0; i < CLONES; i++) {
                withClone.add(Timing.createToFirstExecMillis(contained, () -> contained.create(clone)));
                withoutClone.add(Timing.createToFirstExecMillis(plain, () -> plain.create(clone)));
            }
            List<Double> withCold = new ArrayList<>();
            List<Double> withoutCold = new ArrayList<>();
            for (int i = 0; i < BOOTS; i++) {
                withCold.add(Timing.createToFirstExecMillis(contained, () -> contained.create(cold)));
                withoutCold.add(Timing.createToFirstExecMillis(plain, () -> plain.create(cold)));
            }
            row(report, "create from template → first exec, contained vs not", withClone, withoutClone);
            row(report, "cold create → first exec, contained vs not", withCold, withoutCold);
        }
    }

    private static void row(Report report, String what, List<Double> with, List<Double> without) {
        double a = Stats.of(with).median();
        double b = Stats.of(without).median();
        double ratio = a / b;
        report.add(what, String.format("%.1f vs %.1f ms (%.2f×)", a, b, ratio), "≤ 1.1×", ratio <= 1.1);
    }
}
