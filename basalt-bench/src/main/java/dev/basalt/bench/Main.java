package dev.basalt.bench;

import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.core.ImageCatalog;
import dev.basalt.core.ManagerConfig;
import dev.basalt.core.SandboxManager;
import dev.basalt.vmm.qemu.QemuHypervisor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bin/bench}: measures Basalt's figures on this machine and records them in docs/BENCHMARKS.md. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measure Basalt on this machine.")
public final class Main implements Callable<Integer> {
    @Option(names = "--boots", description = "Cold boots per variant (default: ${DEFAULT-VALUE}).", defaultValue = "7")
    int boots;

    @Option(names = "--record", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Write the results into docs/BENCHMARKS.md (default: ${DEFAULT-VALUE}).")
    boolean record;

    @Option(names = "--docs", description = "The BENCHMARKS.md to update.", defaultValue = "docs/BENCHMARKS.md")
    Path docs;

    @Option(names = "--only", split = ",", paramLabel = "NAME",
            description = "Run only these benchmarks: boot, kernel, template, containment, fork, agent, file, "
                    + "concurrency, grpc, restart, hostile (default: all).")
    java.util.Set<String> only = java.util.Set.of();

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        QemuHypervisor qemu = QemuHypervisor.detect();
        ManagerConfig config = ManagerConfig.defaults();
        Report report = new Report();
        Path work = Files.createTempDirectory("basalt-bench");
        try {
            runAll(qemu, config, report, work);
        } finally {
            DaemonProcess.deleteTree(work);
        }
        if (!only.isEmpty()) {
            report.note("A partial run: only " + String.join(", ", only) + " (`bin/bench --only`).");
        }
        if (record) {
            Report.record(docs, report.markdown(title(), Machine.describe(qemu)));
            System.out.println("\nrecorded in " + docs);
        }
        return 0;
    }

    private void runAll(QemuHypervisor qemu, ManagerConfig config, Report report, Path work) throws Exception {
        try (SandboxManager manager = new SandboxManager(config, qemu)) {
            var image = new ImageCatalog(config.imagesDir()).load("default");
            System.out.printf("Basalt benchmarks — accel %s, %d boots per variant%n%n", qemu.accel().id(), boots);
            double coldMedian = Double.NaN;
            if (wanted("boot")) {
                BootBench boot = new BootBench(manager, qemu, image, work, boots);
                boot.run(report);
                coldMedian = boot.coldMedianSeconds();
            }
            if (wanted("kernel")) {
                new KernelBench(manager, boots).run(report);
            }
            if (wanted("template")) {
                new TemplateBench(manager, config, qemu, coldMedian).run(report);
            }
            if (wanted("containment")) {
                new ContainmentBench(config, qemu).run(report);
            }
            if (wanted("fork")) {
                new ForkBench(manager).run(report);
            }
            if (wanted("agent") || wanted("file")) {
                SandboxInfo sandbox = manager.create(SandboxSpec.defaults());
                try {
                    if (wanted("agent")) {
                        new AgentBench(manager, sandbox.id()).run(report);
                    }
                    if (wanted("file")) {
                        new FileBench(manager, sandbox.id()).run(report);
                    }
                } finally {
                    manager.remove(sandbox.id());
                }
            }
            if (wanted("concurrency")) {
                new ConcurrencyBench(manager, 8).run(report);
            }
            if (wanted("grpc")) {
                new GrpcBench(manager).run(report);
            }
        }
        if (wanted("restart")) {
            new RestartBench(config.imagesDir(), 20).run(report);
        }
        if (wanted("hostile")) {
            new HostileBench(config.imagesDir(), work).run(report);
        }
    }

    private boolean wanted(String name) {
        return only.isEmpty() || only.contains(name);
    }

    private static String title() {
        return ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z"));
    }
}
