package dev.basalt.bench;

import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.core.ImageCatalog;
import dev.basalt.core.ManagerConfig;
import dev.basalt.core.RunRoot;
import dev.basalt.core.SandboxManager;
import dev.basalt.vmm.qemu.QemuHypervisor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bin/bench}: measures Basalt's figures on this machine and records them in docs/BENCHMARKS.md. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Measure Basalt on this machine.")
public final class Main implements Callable<Integer> {
    /** Every benchmark group, in the order a full run takes them. */
    static final List<String> GROUPS = List.of("boot", "kernel", "template", "containment", "fork", "agent", "file",
            "concurrency", "grpc", "pause", "e2b", "restart", "hostile", "cli", "network", "images");

    @Option(names = "--boots", description = "Cold boots per variant (default: ${DEFAULT-VALUE}).", defaultValue = "7")
    int boots;

    @Option(names = "--record", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Write the results into docs/BENCHMARKS.md (default: ${DEFAULT-VALUE}).")
    boolean record;

    @Option(names = "--docs", description = "The BENCHMARKS.md to update.", defaultValue = "docs/BENCHMARKS.md")
    Path docs;

    @Option(names = "--only", split = ",", paramLabel = "NAME",
            description = "Run only these benchmark groups: boot, kernel, template, containment, fork, agent, file, "
                    + "concurrency, grpc, pause, e2b, restart, hostile, cli, network, images (default: all).")
    Set<String> only = Set.of();

    @Option(names = "--cli-only", description = "The same as --only cli (bin/basalt as a shell runs it, beside runsc).")
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
        if (cliOnly) {
            only = Set.of("cli");
        }
        if (networkOnly) {
            only = Set.of("network");
        }
        for (String name : only) {
            if (!GROUPS.contains(name)) {
                throw new CommandLine.ParameterException(new CommandLine(this), "--only takes " + String.join(", ", GROUPS)
                        + "; got '" + name + "'");
            }
        }
        QemuHypervisor qemu = QemuHypervisor.detect();
        ManagerConfig config = ManagerConfig.defaults();
        Report report = new Report();
        Path work = Files.createTempDirectory("basalt-bench");
        try {
            runAll(qemu, config, report, work);
        } finally {
            RunRoot.deleteTree(work);   // the hostile suite's tool, the E2B bench's files
        }
        if (record) {
            Report.record(docs, report.markdown(title(), Machine.describe(qemu)));
            System.out.println("\nrecorded in " + docs);
        }
        return 0;
    }

    private void runAll(QemuHypervisor qemu, ManagerConfig config, Report report, Path work) throws Exception {
        System.out.printf("Basalt benchmarks — accel %s, %s%n%n", qemu.accel().id(),
                only.isEmpty() ? boots + " boots per variant" : "only " + String.join(", ", only));
        if (GROUPS.subList(0, GROUPS.indexOf("pause") + 1).stream().anyMatch(this::wanted)) {
            try (SandboxManager manager = new SandboxManager(config, qemu)) {
                runInManager(manager, qemu, config, report, work);
            }
        }
        if (wanted("e2b")) {
            new E2bBench(qemu, config, repo()).run(report);
        }
        if (wanted("restart")) {
            new RestartBench(config.imagesDir(), 20).run(report);
        }
        if (wanted("hostile")) {
            new HostileBench(config.imagesDir(), work).run(report);
        }
        if (wanted("cli")) {
            new CliBench(repo(), config.imagesDir(), cliRuns).run(report);
        }
        if (wanted("network")) {
            new NetworkBench(config, qemu).run(report);
        }
        if (wanted("images")) {
            try (SandboxManager manager = new SandboxManager(config, qemu)) {
                new ImageBench(manager, config, work).run(report);
            }
        }
    }

    /** The groups that measure one embedded manager. */
    private void runInManager(SandboxManager manager, QemuHypervisor qemu, ManagerConfig config, Report report, Path work)
            throws Exception {
        var image = new ImageCatalog(config.imagesDir()).load("default");
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
        if (wanted("pause")) {
            new PauseBench(manager).run(report);
        }
    }

    private boolean wanted(String name) {
        return only.isEmpty() || only.contains(name);
    }

    private static Path repo() {
        String configured = System.getProperty("basalt.repo");
        return configured != null ? Path.of(configured) : Path.of("").toAbsolutePath();
    }

    private static String title() {
        return ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z"));
    }
}
