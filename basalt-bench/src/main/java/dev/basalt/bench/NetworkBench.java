package dev.basalt.bench;

import dev.basalt.api.ExecRequest;
import dev.basalt.api.ExecResult;
import dev.basalt.api.NetworkPolicy;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.core.ManagerConfig;
import dev.basalt.core.SandboxManager;
import dev.basalt.net.FakeInternet;
import dev.basalt.net.HostNetwork;
import dev.basalt.net.NetConfig;
import dev.basalt.net.TestServers;
import dev.basalt.vmm.Hypervisor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Sandbox networking against a test-made internet (namespaces this benchmark makes and deletes):
 * taking a slot, TCP throughput guest → internet directly ({@code open}) and through the domain
 * proxy, connection set-up through the proxy against direct, and a networked clone's create →
 * first exec against an un-networked one.
 */
final class NetworkBench {
    private static final int SLOT_TAKES = 40;
    private static final int CLONES = 10;
    private static final int MIB = 64;
    private static final int CONNECTS = 20;
    private final ManagerConfig config;
    private final Hypervisor hypervisor;

    NetworkBench(ManagerConfig config, Hypervisor hypervisor) {
        this.config = config;
        this.hypervisor = hypervisor;
    }

    void run(Report report) throws Exception {
        Path dir = Files.createTempDirectory("basalt-netbench");
        try (FakeInternet inet = new FakeInternet()) {
            inet.dnsmasq(dir, "sink.test=203.0.113.10");
            TestServers.Sink direct = inet.onClose(TestServers.sink(inet.inet, "203.0.113.10", 9000));
            TestServers.Sink proxied = inet.onClose(TestServers.sink(inet.inet, "203.0.113.10", 80));
            NetConfig net = inet.netConfig(8, 2, "10.203.200.0/24");
            slots(report, net);
            ManagerConfig c = config.withNetwork(net).withRunRoot(config.runRoot().resolveSibling(config.runRoot().getFileName() + "-net"))
                    .withStateDir(Path.of(config.stateDir() + "-net"));
            try (SandboxManager manager = new SandboxManager(c, hypervisor)) {
                clones(report, manager);
                // open with a deny entry that is a domain: ports 80/443 go through the proxy, the rest is direct
                SandboxInfo s = manager.create(SandboxSpec.defaults().withNetwork(NetworkPolicy.open().withDeny("nothing.invalid")));
                try {
                    throughput(report, manager, s.id(), direct, proxied);
                    connects(report, manager, s.id());
                } finally {
                    manager.remove(s.id());
                }
            }
        } finally {
            dev.basalt.core.RunRoot.deleteTree(dir);
        }
    }

    private static void slots(Report report, NetConfig net) {
        HostNetwork hn = HostNetwork.start(net, List.of(), d -> { });
        try {
            hn.attach("warm", NetworkPolicy.open());   // nft and ip warmed up; the spares are made meanwhile
            hn.detach("warm");
            Timing.sleep(1000);
            List<Double> take = new ArrayList<>();
            for (int i = 0; i < SLOT_TAKES; i++) {
                long t0 = System.nanoTime();
                hn.attach("bench-" + i, NetworkPolicy.allow("pypi.org", "*.pythonhosted.org"));
                take.add((System.nanoTime() - t0) / 1e6);
                hn.detach("bench-" + i);
                Timing.sleep(60);   // the slot is remade in the background; a spare is ready again
            }
            double ms = Stats.of(take).median();
            report.add("slot taken from the pool (policy applied)", String.format("%.2f ms", ms), "≤ 1 ms", ms <= 1);
        } finally {
            hn.close();
        }
    }

    private void clones(Report report, SandboxManager manager) {
        SandboxSpec plain = SandboxSpec.defaults();
        SandboxSpec networked = SandboxSpec.defaults().withNetwork(NetworkPolicy.open());
        Timing.createToFirstExecMillis(manager, () -> manager.create(plain));       // templates, first translations
        Timing.createToFirstExecMillis(manager, () -> manager.create(networked));
        List<Double> with = new ArrayList<>();
        List<Double> without = new ArrayList<>();
        for (int i = 0; i < CLONES; i++) {
            with.add(Timing.createToFirstExecMillis(manager, () -> manager.create(networked)));
            without.add(Timing.createToFirstExecMillis(manager, () -> manager.create(plain)));
        }
        double a = Stats.of(with).median();
        double b = Stats.of(without).median();
        report.add("clone with a NIC → first exec vs without", String.format("%.1f vs %.1f ms (%.2f×)", a, b, a / b), "≤ 1.1×", a / b <= 1.1);
    }

    private static ExecResult sh(SandboxManager m, String id, String script) {
        return m.exec(id, ExecRequest.of("sh", "-c", script).withTimeout(Duration.ofMinutes(5)));
    }

    private static void throughput(Report report, SandboxManager m, String id, TestServers.Sink direct, TestServers.Sink proxied) {
        String data = "dd if=/dev/zero bs=64k count=" + (MIB * 16) + " 2>/dev/null";
        double directMBs = 0;
        double proxiedMBs = 0;
        for (int round = 0; round < 2; round++) {   // the first round warms up the translations
            direct.reset();
            sh(m, id, data + " | nc 203.0.113.10 9000");
            directMBs = direct.bytes() / 1e6 / direct.seconds();
            proxied.reset();
            sh(m, id, "(printf 'POST / HTTP/1.1\\r\\nHost: 203.0.113.10\\r\\n\\r\\n'; " + data + ") | nc 203.0.113.10 80");
            proxiedMBs = proxied.bytes() / 1e6 / proxied.seconds();
        }
        report.add("guest → internet TCP throughput, open mode", String.format("%.0f MB/s", directMBs), "≥ 200 MB/s", directMBs >= 200);
        report.note("TCP throughput is the guest's `dd | nc` to a sink in the test internet: under TCG the emulated guest CPU, not "
                + "the host's datapath (TAP, veth, nftables, the proxy's splice), sets the rate.");
        report.add("guest → internet TCP throughput, domain proxy", String.format("%.0f MB/s (%.2f× direct)", proxiedMBs,
                proxiedMBs / directMBs), "report", null);
    }

    private static void connects(Report report, SandboxManager m, String id) {
        String loop = "i=0; while [ $i -lt " + CONNECTS + " ]; do %s; i=$((i+1)); done";
        String directOne = "echo x | nc 203.0.113.10 9000";
        String proxiedOne = "printf 'GET / HTTP/1.0\\r\\nHost: 203.0.113.10\\r\\n\\r\\n' | nc 203.0.113.10 80";
        List<Double> d = new ArrayList<>();
        List<Double> p = new ArrayList<>();
        for (int round = 0; round < 4; round++) {
            long t0 = System.nanoTime();
            sh(m, id, String.format(loop, directOne));
            long t1 = System.nanoTime();
            sh(m, id, String.format(loop, proxiedOne));
            long t2 = System.nanoTime();
            if (round > 0) {
                d.add((t1 - t0) / 1e6 / CONNECTS);
                p.add((t2 - t1) / 1e6 / CONNECTS);
            }
        }
        double extra = Stats.of(p).median() - Stats.of(d).median();
        report.add("TCP connection set-up through the proxy vs direct", String.format("%+.2f ms (%.1f vs %.1f ms per guest nc)", extra,
                Stats.of(p).median(), Stats.of(d).median()), "≤ +1 ms", extra <= 1);
    }
}
