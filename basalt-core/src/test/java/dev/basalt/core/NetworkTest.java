package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.ExecResult;
import dev.basalt.api.ExitStatus;
import dev.basalt.api.NetworkPolicy;
import dev.basalt.api.NetworkStats;
import dev.basalt.api.PortForward;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.net.FakeInternet;
import dev.basalt.net.NetConfig;
import dev.basalt.net.TestServers;
import dev.basalt.net.host.Commands;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Networked sandboxes end to end: real VMs of the default image (virtio-net on a slot's TAP, the
 * agent configuring eth0 from the kernel command line), template clones and fork children with one
 * guest configuration, the egress policy, ports, and nothing left behind — against a test-made
 * internet in namespaces this test creates.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NetworkTest {
    @TempDir
    static Path dir;
    private FakeInternet inet;
    private SandboxManager manager;
    private ManagerConfig config;

    @BeforeAll
    void start() throws Exception {
        inet = new FakeInternet();
        try {
            inet.dnsmasq(dir, "allowed.test=203.0.113.10", "other.test=203.0.113.11");
            inet.onClose(TestServers.http(inet.inet, "203.0.113.10", 80));
            inet.onClose(TestServers.http(inet.inet, "203.0.113.11", 80));
            NetConfig net = inet.netConfig(4, 1, "10.203.11.0/24");
            String run = "basalt-nettest-" + ProcessHandle.current().pid();
            config = RealVms.config().withRunRoot(Path.of("/tmp", run)).withStateDir(Path.of("/tmp", run + "-state"))
                    .withNetwork(net);
            manager = new SandboxManager(config, dev.basalt.vmm.Hypervisors.detect());
        } catch (Throwable t) {
            stop();
            throw t;
        }
    }

    @AfterAll
    void stop() {
        if (manager != null) {
            manager.close();
            RunRoot.deleteTree(config.runRoot());
            RunRoot.deleteTree(config.stateDir());
        }
        if (inet != null) {
            inet.close();
            assertThat(Commands.run(List.of("ip", "netns", "list"), null).stdout()).doesNotContain(inet.prefix);
            assertThat(Commands.run(List.of("nft", "list", "tables"), null).stdout()).doesNotContain(inet.prefix);
        }
    }

    private ExecResult sh(String id, String script) {
        return manager.exec(id, ExecRequest.of("sh", "-c", script).withTimeout(Duration.ofSeconds(30)));
    }

    private static SandboxSpec spec(NetworkPolicy policy) {
        return SandboxSpec.defaults().withMemoryMib(128).withNetwork(policy);
    }

    @Test
    void clonesOfOneTemplateReachTheNetworkAtOnceWithTheirOwnPolicies() throws Exception {
        SandboxInfo a = manager.create(spec(NetworkPolicy.allow("allowed.test")));
        SandboxInfo b = manager.create(spec(NetworkPolicy.open()));
        try {
            assertThat(a.origin()).isEqualTo(b.origin());           // the same template: same guest config
            try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<ExecResult>> runs = pool.invokeAll(List.<Callable<ExecResult>>of(
                        () -> sh(a.id(), "wget -q -O - http://allowed.test/"),
                        () -> sh(b.id(), "wget -q -O - http://other.test/")));
                assertThat(runs.get(0).get().stdoutText()).contains("hello from allowed.test via 203.0.113.10");
                assertThat(runs.get(1).get().stdoutText()).contains("hello from other.test via 203.0.113.11");
            }
            ExecResult denied = sh(a.id(), "wget -q -O - http://other.test/");
            assertThat(denied.exit()).isNotEqualTo(new ExitStatus.Exited(0));
            assertThat(denied.stderrText()).contains("bad address");
            assertThat(sh(a.id(), "cat /etc/resolv.conf; ip -4 addr show eth0").stdoutText())
                    .contains("nameserver 169.254.0.22").contains("169.254.0.21/30");
            NetworkStats stats = manager.networkStats(a.id());
            assertThat(stats.bytesOut()).isPositive();
            assertThat(stats.deniedDns()).isPositive();
        } finally {
            manager.remove(a.id());
            manager.remove(b.id());
        }
    }

    @Test
    void sandboxesWithoutNetworkHaveNoNicAndADifferentTemplate() {
        SandboxInfo plain = manager.create(SandboxSpec.defaults().withMemoryMib(128));
        SandboxInfo networked = manager.create(spec(NetworkPolicy.open()));
        try {
            assertThat(plain.origin()).isNotEqualTo(networked.origin());
            assertThat(sh(plain.id(), "ls /sys/class/net").stdoutText().strip()).isEqualTo("lo");
            assertThat(sh(networked.id(), "ls /sys/class/net").stdoutText()).contains("eth0");
            assertThatThrownBy(() -> manager.setNetworkPolicy(plain.id(), NetworkPolicy.open()))
                    .isInstanceOf(BasaltException.WrongState.class).hasMessageContaining("has no network");
        } finally {
            manager.remove(plain.id());
            manager.remove(networked.id());
        }
    }

    @Test
    void proxyModeReachesAllowedNamesThroughTheAgentChannelWithoutANic() {
        SandboxInfo s = manager.create(spec(NetworkPolicy.proxy("allowed.test")));
        try {
            assertThat(sh(s.id(), "ls /sys/class/net").stdoutText().strip()).isEqualTo("lo");
            assertThat(sh(s.id(), "echo $HTTP_PROXY").stdoutText().strip()).isEqualTo("http://127.0.0.1:3128");
            assertThat(sh(s.id(), "wget -q -O - http://allowed.test/").stdoutText()).contains("hello from allowed.test via 203.0.113.10");
            ExecResult denied = sh(s.id(), "wget -q -O - http://other.test/");
            assertThat(denied.exit()).isNotEqualTo(new ExitStatus.Exited(0));
            assertThat(denied.stderrText()).contains("403");
            String tunnel = sh(s.id(), "printf 'CONNECT allowed.test:80 HTTP/1.1\\r\\nHost: allowed.test:80\\r\\n\\r\\n"
                    + "GET / HTTP/1.0\\r\\nHost: allowed.test\\r\\n\\r\\n' | nc 127.0.0.1 3128").stdoutText();
            assertThat(tunnel).contains("200 Connection established").contains("hello from allowed.test");
            assertThat(sh(s.id(), "printf 'CONNECT 10.99.0.1:80 HTTP/1.1\\r\\n\\r\\n' | nc 127.0.0.1 3128").stdoutText())
                    .contains("403 Forbidden").contains("reserved range");
            manager.setNetworkPolicy(s.id(), NetworkPolicy.proxy("allowed.test", "other.test"));
            assertThat(sh(s.id(), "wget -q -O - http://other.test/").stdoutText()).contains("hello from other.test");
            assertThatThrownBy(() -> manager.setNetworkPolicy(s.id(), NetworkPolicy.open()))
                    .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("proxy mode");
            try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {   // more connections than tunnels wait
                List<java.util.concurrent.Future<ExecResult>> runs = new java.util.ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    runs.add(pool.submit(() -> sh(s.id(), "for i in 1 2 3 4 5 6; do wget -q -O - http://allowed.test/ & done; wait")));
                }
                for (var f : runs) {
                    assertThat(f.get().stdoutText().split("hello from allowed.test", -1)).hasSize(7);
                }
            } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
                throw new AssertionError(e);
            }
        } finally {
            manager.remove(s.id());
        }
    }

    @Test
    void aStoppedSandboxGivesItsSlotBackAndTakesNoPolicy() {
        SandboxInfo s = manager.create(spec(NetworkPolicy.open()));
        try {
            manager.stop(s.id(), Duration.ofSeconds(5));
            assertThatThrownBy(() -> manager.setNetworkPolicy(s.id(), NetworkPolicy.allow("allowed.test")))
                    .isInstanceOf(BasaltException.WrongState.class).hasMessageContaining("STOPPED");
            assertThatThrownBy(() -> manager.forwardPort(s.id(), 80, 0))
                    .isInstanceOf(BasaltException.WrongState.class).hasMessageContaining("has no network");
            assertThat(manager.networkStats(s.id())).isEqualTo(NetworkStats.ZERO);
        } finally {
            manager.remove(s.id());
        }
    }

    @Test
    void forkChildrenReachTheNetworkAtTheSameTime() throws Exception {
        SandboxInfo parent = manager.create(spec(NetworkPolicy.allow("allowed.test")));
        List<SandboxInfo> children = List.of();
        try {
            children = manager.fork(parent.id(), 2);
            try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Callable<ExecResult>> calls = new java.util.ArrayList<>();
                for (SandboxInfo c : children) {
                    calls.add(() -> sh(c.id(), "wget -q -O - http://allowed.test/"));
                }
                calls.add(() -> sh(parent.id(), "wget -q -O - http://allowed.test/"));
                for (Future<ExecResult> f : pool.invokeAll(calls)) {
                    assertThat(f.get().stdoutText()).contains("hello from allowed.test");
                }
            }
            assertThat(sh(children.getFirst().id(), "wget -q -O - http://other.test/").stderrText()).contains("bad address");
        } finally {
            for (SandboxInfo c : children) {
                manager.remove(c.id());
            }
            manager.remove(parent.id());
        }
    }

    @Test
    void aRestoredSnapshotHasItsSourcesPolicyAndItsOwnSlot() {
        SandboxInfo source = manager.create(spec(NetworkPolicy.allow("allowed.test")));
        String name = "net-" + source.id();
        SandboxInfo restored = null;
        try {
            manager.checkpoint(source.id(), name);
            restored = manager.restore(name, java.util.Map.of());
            assertThat(sh(restored.id(), "wget -q -O - http://allowed.test/").stdoutText()).contains("hello from allowed.test");
            assertThat(sh(restored.id(), "wget -q -O - http://other.test/").stderrText()).contains("bad address");
            assertThat(sh(source.id(), "wget -q -O - http://allowed.test/").stdoutText()).contains("hello from allowed.test");
        } finally {
            if (restored != null) {
                manager.remove(restored.id());
            }
            manager.remove(source.id());
            manager.deleteSnapshot(name);
        }
    }

    @Test
    void portsPolicyChangesAndSlotsAreGivenBack() throws Exception {
        SandboxInfo s = manager.create(spec(NetworkPolicy.allow("allowed.test")));
        try {
            assertThat(sh(s.id(), "mkdir -p /tmp/www && echo from-the-guest > /tmp/www/index.html && httpd -p 8080 -h /tmp/www")
                    .exit()).isEqualTo(new ExitStatus.Exited(0));
            PortForward f = manager.forwardPort(s.id(), 8080, 0);
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + f.hostPort() + "/index.html")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.body()).isEqualTo("from-the-guest\n");
            assertThatThrownBy(() -> manager.forwardPort(s.id(), 8080, 0)).isInstanceOf(BasaltException.AlreadyExists.class);
            assertThat(manager.portForwards(s.id())).containsExactly(f);

            assertThat(sh(s.id(), "wget -q -O - http://other.test/").stderrText()).contains("bad address");
            manager.setNetworkPolicy(s.id(), NetworkPolicy.allow("allowed.test", "other.test"));
            assertThat(sh(s.id(), "wget -q -O - http://other.test/").stdoutText()).contains("hello from other.test");
        } finally {
            manager.remove(s.id());
        }
        // all four slots can be taken again once removed sandboxes gave theirs back
        List<SandboxInfo> four = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                four.add(manager.create(spec(NetworkPolicy.open())));
            }
            assertThatThrownBy(() -> manager.create(spec(NetworkPolicy.open())))
                    .isInstanceOf(BasaltException.ResourceExhausted.class).hasMessageContaining("network slots");
        } finally {
            for (SandboxInfo i : four) {
                manager.remove(i.id());
            }
        }
    }
}
