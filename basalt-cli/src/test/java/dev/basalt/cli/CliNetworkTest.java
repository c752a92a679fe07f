package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.core.ManagerConfig;
import dev.basalt.core.SandboxManager;
import dev.basalt.net.FakeInternet;
import dev.basalt.net.NetConfig;
import dev.basalt.net.TestServers;
import dev.basalt.server.BasaltServer;
import dev.basalt.vmm.Hypervisors;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --net}, {@code --allow}, {@code basalt net} and {@code basalt port} through basaltd (gRPC), against a test-made internet. */
class CliNetworkTest {

    private static CliTest.Outcome basalt(String... args) {
        return CliDaemonTest.basalt(args);
    }

    @Test
    void networkOptionsAndVerbsWorkThroughTheDaemon(@TempDir Path tmp) throws Exception {
        Path shm = Path.of("/dev/shm", "basalt-cli-net-" + ProcessHandle.current().pid());
        try (FakeInternet inet = new FakeInternet()) {
            inet.dnsmasq(tmp, "allowed.test=203.0.113.10", "other.test=203.0.113.11");
            inet.onClose(TestServers.http(inet.inet, "203.0.113.10", 80));
            inet.onClose(TestServers.http(inet.inet, "203.0.113.11", 80));
            NetConfig net = inet.netConfig(2, 1, "10.203.13.0/24");
            ManagerConfig config = ManagerConfig.defaults().withImagesDir(CliTest.images()).withRunRoot(tmp.resolve("run"))
                    .withStateDir(tmp.resolve("state")).withShmDir(shm).withNetwork(net);
            Path socket = tmp.resolve("basaltd.sock");
            try (SandboxManager manager = new SandboxManager(config, Hypervisors.detect());
                 BasaltServer server = BasaltServer.onUnixSocket(socket, manager).start()) {
                String host = "unix:" + socket;
                CliTest.Outcome badRule = basalt("--host", host, "create", "--allow", "*.test");
                assertThat(badRule.code()).isEqualTo(2);
                assertThat(badRule.err()).contains("whole top-level domain");
                assertThat(basalt("--host", host, "create", "--net", "bridge").err()).contains("none, open, allow or proxy");
                assertThat(basalt("--host", host, "create", "--deny", "10.0.0.1/8").err()).contains("did you mean 10.0.0.0/8");

                CliTest.Outcome created = basalt("--host", host, "create", "-m", "128", "--allow", "allowed.test");
                assertThat(created.code()).as(created.err()).isZero();
                String id = created.out().strip();
                assertThat(basalt("--host", host, "exec", id, "--", "wget", "-q", "-O", "-", "http://allowed.test/").out())
                        .contains("hello from allowed.test");
                CliTest.Outcome denied = basalt("--host", host, "exec", id, "--", "wget", "-q", "-O", "-", "http://other.test/");
                assertThat(denied.code()).isNotZero();
                assertThat(denied.err()).contains("bad address");

                CliTest.Outcome inspected = basalt("--host", host, "inspect", id);
                assertThat(inspected.out()).contains("\"mode\" : \"allow\"").contains("allowed.test").contains("\"bytesOut\"");
                CliTest.Outcome changed = basalt("--host", host, "net", id, "--allow", "allowed.test,other.test");
                assertThat(changed.code()).as(changed.err()).isZero();
                assertThat(changed.out()).contains("\"deniedDns\"");
                assertThat(basalt("--host", host, "exec", id, "--", "wget", "-q", "-O", "-", "http://other.test/").out())
                        .contains("hello from other.test");

                basalt("--host", host, "exec", id, "--", "sh", "-c", "mkdir -p /tmp/w && echo via-port > /tmp/w/index.html && httpd -p 8080 -h /tmp/w");
                CliTest.Outcome port = basalt("--host", host, "port", id, "8080");
                assertThat(port.code()).as(port.err()).isZero();
                HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://" + port.out().strip()
                        + "/index.html")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.body()).isEqualTo("via-port\n");
                assertThat(basalt("--host", host, "port", id).out()).contains("8080 -> " + port.out().strip());
                assertThat(basalt("--host", host, "port", id, "8080").code()).isEqualTo(ExitCodes.of(new dev.basalt.api.BasaltException.AlreadyExists("x")));
                assertThat(basalt("--host", host, "rm", id).code()).isZero();
            } finally {
                CliTestSupport.deleteTree(shm);
            }
        }
    }
}
