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
import dev.basalt.vmm.Hypervisors;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
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
 * kill -9 of a daemon with networked sandboxes: their VMs and slots survive, the next daemon
 * serves their DNS, proxy, port forwards and proxied tunnels again, and after everything is
 * removed nothing of the networking is left (namespaces, links, processes).
 */
class NetworkKillTest {
    @TempDir
    Path tmp;

    @Test
    void networkedSandboxesSurviveAKilledDaemon() throws Exception {
        try (FakeInternet inet = new FakeInternet()) {
            inet.dnsmasq(tmp, "allowed.test=203.0.113.10");
            inet.onClose(TestServers.http(inet.inet, "203.0.113.10", 80));
            String java = ProcessHandle.current().info().command().orElseThrow();
            Process daemon = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                    "-Dbasalt.images=" + RealVms.imagesDir(), Daemon.class.getName(), tmp.toString(), inet.prefix, inet.hostNs, inet.uplink)
                    .redirectErrorStream(true).start();
            inet.onClose(daemon::destroyForcibly);
            String allowed = null;
            String proxied = null;
            int port = 0;
            long[] pids = new long[2];
            try (BufferedReader out = new BufferedReader(new InputStreamReader(daemon.getInputStream()))) {
                for (String line; (line = out.readLine()) != null && !line.equals("DONE"); ) {
                    String[] w = line.split(" ");
                    switch (w[0]) {
                        case "ALLOWED" -> {
                            allowed = w[1];
                            pids[0] = Long.parseLong(w[2]);
                            port = Integer.parseInt(w[3]);
                        }
                        case "PROXIED" -> {
                            proxied = w[1];
                            pids[1] = Long.parseLong(w[2]);
                        }
                        default -> { }
                    }
                }
            } finally {
                daemon.destroyForcibly();   // SIGKILL
                daemon.waitFor();
            }
            assertThat(allowed).isNotNull();
            assertThat(proxied).isNotNull();
            for (long pid : pids) {
                assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).as("VM outlives the daemon").contains(true);
            }
            try (SandboxManager m = new SandboxManager(Daemon.config(tmp, inet.prefix, inet.hostNs, inet.uplink), Hypervisors.detect())) {
                assertThat(m.exec(allowed, ExecRequest.of("wget", "-q", "-O", "-", "http://allowed.test/")).stdoutText())
                        .contains("hello from allowed.test");
                assertThat(m.exec(proxied, ExecRequest.of("wget", "-q", "-O", "-", "http://allowed.test/")).stdoutText())
                        .contains("hello from allowed.test");
                HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/index.html")).timeout(Duration.ofSeconds(10)).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.body()).isEqualTo("survived\n");
                m.remove(allowed);
                m.remove(proxied);
            }
            for (long pid : pids) {
                assertThat(ProcessHandle.of(pid)).isEmpty();
            }
            RunRoot.deleteTree(tmp.resolve("run"));
        }
        // the fake internet's namespaces took the host table with them; nothing else of the prefix is left
        String namespaces = Commands.run(List.of("ip", "netns", "list"), null).stdout();
        assertThat(namespaces.lines().filter(l -> l.matches("bt[0-9a-f]{4}-s\\d+.*")).toList()).isEmpty();
    }

    /** A daemon-mode manager in its own process: an allow-listed sandbox with a port forward and a proxied one. */
    public static final class Daemon {
        static ManagerConfig config(Path dir, String prefix, String hostNs, String uplink) {
            NetConfig net = NetConfig.defaults().withPrefix(prefix).withSlots(3, 1).withSlotNetwork("10.203.14.0/24")
                    .withHostNamespace(hostNs).withUplink(uplink)
                    .withDnsUpstreams(List.of(new InetSocketAddress(FakeInternet.DNS_IP, 53)));
            return RealVms.config().withRunRoot(dir.resolve("run")).withStateDir(dir.resolve("state"))
                    .withVmsDieWithManager(false).withNetwork(net);
        }

        public static void main(String[] args) throws Exception {
            SandboxManager m = new SandboxManager(config(Path.of(args[0]), args[1], args[2], args[3]), Hypervisors.detect());
            SandboxInfo a = m.create(SandboxSpec.defaults().withMemoryMib(128).withNetwork(NetworkPolicy.allow("allowed.test")));
            m.exec(a.id(), ExecRequest.of("sh", "-c", "mkdir -p /tmp/w && echo survived > /tmp/w/index.html && httpd -p 8080 -h /tmp/w"));
            PortForward f = m.forwardPort(a.id(), 8080, 0);
            System.out.println("ALLOWED " + a.id() + " " + m.inspect(a.id()).vmmPid() + " " + f.hostPort());
            SandboxInfo p = m.create(SandboxSpec.defaults().withMemoryMib(128).withNetwork(NetworkPolicy.proxy("allowed.test")));
            System.out.println("PROXIED " + p.id() + " " + m.inspect(p.id()).vmmPid());
            System.out.println("DONE");
            System.out.flush();
            Thread.sleep(Duration.ofMinutes(5));
        }
    }
}
