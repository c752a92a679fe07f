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

    @Option(names = "--cli-only", description = "Only the CLI figures beside runsc (bin/basalt as a shell runs it).")
    boolean cliOnly;

    @Option(names = "--cli-runs", description = "Runs per CLI figure (default: ${DEFAULT-VALUE}).", defaultValue = "7")
    int cliRuns;

    @Option(names = "--network-only", description = "Only the networking figures (slots, throughput, the proxy, clones with a NIC).")
    boolean networkOnly;

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
            Files.deleteIfExists(work);
        }
        if (record) {
            Report.record(docs, report.markdown(title(), Machine.describe(qemu)));
            System.out.println("\nrecorded in " + docs);
        }
        return 0;
    }

    private void runAll(QemuHypervisor qemu, ManagerConfig config, Report report, Path work) throws Exception {
        if (networkOnly) {
            new NetworkBench(config, qemu).run(report);
            return;
        }
        CliBench cli = new CliBench(Path.of(System.getProperty("basalt.repo", ".")), config.imagesDir(), cliRuns);
        if (cliOnly) {
            System.out.printf("Basalt CLI benchmarks — accel %s, %d runs per figure%n%n", qemu.accel().id(), cliRuns);
            cli.run(report);
            return;
        }
        try (SandboxManager manager = new SandboxManager(config, qemu)) {
            var image = new ImageCatalog(config.imagesDir()).load("default");
            System.out.printf("Basalt benchmarks — accel %s, %d boots per variant%n%n", qemu.accel().id(), boots);
            BootBench boot = new BootBench(manager, qemu, image, work, boots);
            boot.run(report);
            new KernelBench(manager, boots).run(report);
            new TemplateBench(manager, config, qemu, boot.coldMedianSeconds()).run(report);
            new ContainmentBench(config, qemu).run(report);
            new ForkBench(manager).run(report);
            SandboxInfo sandbox = manager.create(SandboxSpec.defaults());
            try {
                new AgentBench(manager, sandbox.id()).run(report);
                new FileBench(manager, sandbox.id()).run(report);
            } finally {
                manager.remove(sandbox.id());
            }
            new ConcurrencyBench(manager, 8).run(report);
            new GrpcBench(manager).run(report);
        }
        new RestartBench(config.imagesDir(), 20).run(report);
        cli.run(report);
        new NetworkBench(config, qemu).run(report);
    }

    private static String title() {
        return ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z"));
    }
}
