package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.ExecRequest;
import dev.basalt.api.NetworkPolicy;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A daemon-mode manager that stops and starts again keeps its networked sandboxes' network: the
 * slot, the policy (DNS and proxy serve it again) and the port forward on the same host port; what
 * no sandbox owns is swept. (The SIGKILL case of the networking layer is RestartTest in basalt-net.)
 */
class NetworkRestartTest {
    @TempDir
    Path dir;

    @Test
    void aRestartedDaemonKeepsItsSandboxesNetworkAndPorts() throws Exception {
        try (FakeInternet inet = new FakeInternet()) {
            inet.dnsmasq(dir, "allowed.test=203.0.113.10");
            inet.onClose(TestServers.http(inet.inet, "203.0.113.10", 80));
            NetConfig net = inet.netConfig(2, 1, "10.203.12.0/24");
            String run = "basalt-netrestart-" + ProcessHandle.current().pid();
            ManagerConfig config = RealVms.config().withRunRoot(Path.of("/tmp", run)).withStateDir(dir.resolve("state"))
                    .withVmsDieWithManager(false).withNetwork(net);
            String id = null;
            String proxied = null;
            SandboxManager second = null;
            SandboxManager first = new SandboxManager(config, dev.basalt.vmm.Hypervisors.detect());
            try {
                SandboxInfo s = first.create(SandboxSpec.defaults().withMemoryMib(128).withNetwork(NetworkPolicy.allow("allowed.test", "203.0.113.10/32")));
                id = s.id();
                first.exec(id, ExecRequest.of("sh", "-c", "mkdir -p /tmp/www && echo still-here > /tmp/www/index.html && httpd -p 8080 -h /tmp/www"));
                PortForward port = first.forwardPort(id, 8080, 0);
                proxied = first.create(SandboxSpec.defaults().withMemoryMib(128).withNetwork(NetworkPolicy.proxy("allowed.test"))).id();
                first.close();   // detaches: the VM, its slot and the host table stay
                first = null;
                assertThat(first).isNull();
                // with no daemon, what nftables decides alone keeps flowing
                second = new SandboxManager(config, dev.basalt.vmm.Hypervisors.detect());
                assertThat(second.inspect(id).state().isTerminal()).isFalse();
                assertThat(second.exec(id, ExecRequest.of("wget", "-q", "-O", "-", "http://allowed.test/")).stdoutText())
                        .contains("hello from allowed.test");
                assertThat(second.portForwards(id)).containsExactly(port);
                HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port.hostPort() + "/index.html")).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.body()).isEqualTo("still-here\n");
                assertThat(second.exec(proxied, ExecRequest.of("wget", "-q", "-O", "-", "http://allowed.test/")).stdoutText())
                        .as("a proxied sandbox's tunnels are served again").contains("hello from allowed.test");
                second.remove(id);
                id = null;
                second.remove(proxied);
                proxied = null;
            } finally {
                SandboxManager m = second != null ? second : first;
                if (m != null) {
                    if (id != null) {
                        m.remove(id);
                    }
                    if (proxied != null) {
                        m.remove(proxied);
                    }
                    m.close();
                }
                RunRoot.deleteTree(config.runRoot());
            }
            // the daemon's close detached: its (now unused) spare slots and table stay for the next start
            assertThat(Files.exists(Path.of("/run/netns"))).isTrue();
        }
        assertThat(Commands.run(List.of("ip", "netns", "list"), null).stdout()).doesNotContain("-s0 ").doesNotContain("-s1 ");
    }
}
