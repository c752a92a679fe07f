package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.NetworkPolicy;
import dev.basalt.api.PortForward;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.SandboxState;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A paused networked sandbox gives its network slot back (a host with one slot makes another
 * networked sandbox meanwhile), and its resume — by the same daemon or by one started after it —
 * gets a slot again, its policy, and its port forward on the same host port, to a server that kept
 * running in the guest. Real VMs in a test-made internet.
 */
class NetworkPauseTest {
    @TempDir
    Path dir;

    @Test
    void aPausedSandboxGivesItsSlotBackAndResumesWithItsNetworkAndPorts() throws Exception {
        try (FakeInternet inet = new FakeInternet()) {
            inet.dnsmasq(dir, "allowed.test=203.0.113.10", "other.test=203.0.113.11");
            inet.onClose(TestServers.http(inet.inet, "203.0.113.10", 80));
            inet.onClose(TestServers.http(inet.inet, "203.0.113.11", 80));
            NetConfig net = inet.netConfig(2, 0, "10.203.15.0/24");
            ManagerConfig config = RealVms.config().withRunRoot(Path.of("/tmp", "basalt-netpause-" + ProcessHandle.current().pid()))
                    .withStateDir(dir.resolve("state")).withVmsDieWithManager(false).withNetwork(net);
            SandboxSpec spec = SandboxSpec.defaults().withMemoryMib(128);
            SandboxManager[] live = {new SandboxManager(config, dev.basalt.vmm.Hypervisors.detect())};
            List<String> made = new java.util.ArrayList<>();
            try {
                SandboxManager manager = live[0];
                // two slots (a template VM needs one of its own while the first sandbox of its shape waits for
                // it); a networked sandbox keeps one of them busy throughout
                made.add(manager.create(spec.withNetwork(NetworkPolicy.open())).id());
                String id = manager.create(spec.withNetwork(NetworkPolicy.allow("allowed.test"))).id();
                made.add(id);
                manager.exec(id, ExecRequest.of("sh", "-c", "mkdir -p /tmp/www && echo kept > /tmp/www/index.html && httpd -p 8080 -h /tmp/www"));
                PortForward port = manager.forwardPort(id, 8080, 0);
                assertThat(get(port)).isEqualTo("kept\n");
                assertThatThrownBy(() -> manager.create(spec.withNetwork(NetworkPolicy.open())))
                        .as("no slot is free while it runs").isInstanceOf(BasaltException.ResourceExhausted.class);

                manager.pause(id);
                assertThat(manager.portForwards(id)).as("nothing is forwarded while it is paused").isEmpty();
                assertThatThrownBy(() -> manager.forwardPort(id, 9000, 0)).isInstanceOf(BasaltException.WrongState.class)
                        .hasMessageContaining("PAUSED");
                // its slot is free: another networked sandbox gets it, and gives it back
                String other = manager.create(spec.withNetwork(NetworkPolicy.open())).id();
                assertThat(wget(manager, other, "http://other.test/")).contains("hello from other.test");
                manager.remove(other);
                // a policy changed while paused is the one its resume applies
                manager.setNetworkPolicy(id, NetworkPolicy.allow("allowed.test", "other.test"));

                manager.resume(id);
                assertThat(manager.portForwards(id)).containsExactly(port);
                assertThat(get(port)).as("the server kept running, reached on the same host port").isEqualTo("kept\n");
                assertThat(wget(manager, id, "http://other.test/")).contains("hello from other.test");

                // paused by one daemon, resumed by the next
                manager.pause(id);
                manager.close();
                live[0] = null;
                live[0] = new SandboxManager(config, dev.basalt.vmm.Hypervisors.detect());
                SandboxManager next = live[0];
                assertThat(next.inspect(id).state()).isEqualTo(SandboxState.PAUSED);
                next.resume(id);
                assertThat(next.portForwards(id)).containsExactly(port);
                assertThat(get(port)).isEqualTo("kept\n");
                assertThat(wget(next, id, "http://allowed.test/")).contains("hello from allowed.test");
            } finally {
                // a daemon-mode manager leaves its VMs running when it closes: remove what the test made first
                if (live[0] != null) {
                    for (String id : made) {
                        try {
                            live[0].remove(id);
                        } catch (BasaltException.NotFound gone) {
                            // removed already
                        }
                    }
                    live[0].close();
                }
                RunRoot.deleteTree(config.runRoot());
            }
        }
        assertThat(Commands.run(List.of("ip", "netns", "list"), null).stdout()).doesNotContain("-s0 ");
    }

    private static String wget(SandboxManager manager, String id, String url) {
        return manager.exec(id, ExecRequest.of("sh", "-c", "wget -q -O - " + url + " 2>&1 || true")).stdoutText();
    }

    private static String get(PortForward port) throws Exception {
        try (HttpClient client = HttpClient.newHttpClient()) {
            return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port.hostPort() + "/index.html"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
        }
    }
}
