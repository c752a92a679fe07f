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

    @Option(names = "--only", description = "Run only this group: e2b (E2B's SDK against basaltd), pause (pause and "
            + "resume) or cli (the CLI figures beside runsc, bin/basalt as a shell runs it).")
    String only;

    @Option(names = "--docs", description = "The BENCHMARKS.md to update.", defaultValue = "docs/BENCHMARKS.md")
    Path docs;

    @Option(names = "--cli-only", description = "The same as --only cli.")
    boolean cliOnly;

    @Option(names = "--cli-runs", description = "Runs per CLI figure (default: ${DEFAULT-VALUE}).", defaultValue = "7")
    int cliRuns;

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
        CliBench cli = new CliBench(repo(), config.imagesDir(), cliRuns);
        if (cliOnly) {
            only = "cli";
        }
        if (only != null && !java.util.List.of("e2b", "pause", "cli").contains(only)) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--only takes e2b, pause or cli, got '" + only + "'");
        }
        if (only != null) {
            System.out.printf("Basalt benchmarks (%s only) — accel %s%n%n", only, qemu.accel().id());
            switch (only) {
                case "e2b" -> new E2bBench(qemu, config, repo()).run(report);
                case "cli" -> cli.run(report);
                default -> {
                    try (SandboxManager manager = new SandboxManager(config, qemu)) {
                        new PauseBench(manager).run(report);
                    }
                }
            }
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
            new PauseBench(manager).run(report);
        }
        new E2bBench(qemu, config, repo()).run(report);
        new RestartBench(config.imagesDir(), 20).run(report);
        cli.run(report);
    }

    private static Path repo() {
        String configured = System.getProperty("basalt.repo");
        return configured != null ? Path.of(configured) : Path.of("").toAbsolutePath();
    }

    private static String title() {
        return ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z"));
    }
}
