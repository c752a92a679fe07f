package dev.basalt.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.NetworkPolicy;
import dev.basalt.api.NetworkStats;
import dev.basalt.api.PortForward;
import dev.basalt.net.host.Commands;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sandbox networking end to end with real parts only: real microVMs (QEMU, the project's kernel,
 * virtio-net on a slot's TAP, the same MAC and IP in every guest), real namespaces, nftables,
 * the host-side resolver and proxy, and a test-made internet (HTTP/HTTPS servers with several
 * TLS names, dnsmasq) in namespaces this test creates and deletes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GuestNetworkTest {
    @TempDir
    static Path dir;
    private FakeInternet inet;
    private HostNetwork net;
    private TestGuest guestA;
    private TestGuest guestB;
    private final List<Denial> denials = new CopyOnWriteArrayList<>();
    private NetConfig config;

    @BeforeAll
    void internet() throws Exception {
        inet = new FakeInternet();
        try {
            inet.dnsmasq(dir, "allowed.test=203.0.113.10", "other.test=203.0.113.11", "api.wild.test=203.0.113.12",
                    "rebind.test=10.99.0.1", "literal.test=198.51.100.7");
            for (String ip : List.of("203.0.113.10", "203.0.113.11", "203.0.113.12", "198.51.100.7", "10.99.0.1")) {
                inet.onClose(TestServers.http(inet.inet, ip, 80));
                inet.onClose(TestServers.echo(inet.inet, ip, 7));
            }
            for (String ip : List.of("203.0.113.10", "203.0.113.11", "203.0.113.12")) {
                inet.onClose(TestServers.https(inet.inet, ip, dir));
            }
            inet.onClose(TestServers.echo(inet.host, "0.0.0.0", 2222));   // a service of "the host itself"
            config = inet.netConfig(3, 1, "10.203.7.0/24");
            net = HostNetwork.start(config, List.of(), denials::add);
            Slot a = net.attach("sbx-a", NetworkPolicy.open());
            Slot b = net.attach("sbx-b", NetworkPolicy.allow("allowed.test", "*.wild.test", "rebind.test", "198.51.100.0/24"));
            guestA = TestGuest.boot(a.namespace(), dir);
            guestB = TestGuest.boot(b.namespace(), dir);
        } catch (Throwable t) {
            teardown();
            throw t;
        }
    }

    @AfterAll
    void teardown() {
        if (guestA != null) {
            guestA.close();
        }
        if (guestB != null) {
            guestB.close();
        }
        if (net != null) {
            net.close();
        }
        if (inet != null) {
            inet.close();
            assertNothingLeft(inet.prefix);
        }
    }

    /** No namespace, link or table of {@code prefix} exists except the named namespaces (and what lives in them). */
    static void assertNothingLeftBut(String prefix, List<String> namespaces) {
        for (String ns : Commands.run(List.of("ip", "netns", "list"), null).stdout().split("\n")) {
            String name = ns.split(" ")[0];
            if (name.startsWith(prefix)) {
                assertThat(namespaces).as("namespace %s is left", name).contains(name);
            }
        }
        assertThat(Commands.run(List.of("nft", "list", "tables"), null).stdout()).doesNotContain(prefix);
    }

    static void assertNothingLeft(String prefix) {
        assertThat(Commands.run(List.of("ip", "netns", "list"), null).stdout()).doesNotContain(prefix);
        assertThat(Commands.run(List.of("ip", "-o", "link"), null).stdout()).doesNotContain(prefix);
        assertThat(Commands.run(List.of("nft", "list", "tables"), null).stdout()).doesNotContain(prefix);
    }

    private static String fetch(TestGuest g, String url) throws Exception {
        TestGuest.Result r = g.sh("timeout 8 wget -q -O - --no-check-certificate " + url);
        assertThat(r.code()).as("wget %s: %s", url, r.output()).isZero();
        return r.output();
    }

    private static TestGuest.Result timed(TestGuest g, String cmd, Duration max) throws Exception {
        long t0 = System.nanoTime();
        TestGuest.Result r = g.sh(cmd);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("'%s' must fail fast", cmd).isLessThan(max);
        return r;
    }

    @Test
    @Order(1)
    void openModeReachesPublicAddressesByNameAndAddress() throws Exception {
        assertThat(fetch(guestA, "http://203.0.113.10/")).contains("hello from 203.0.113.10 via 203.0.113.10");
        assertThat(fetch(guestA, "http://other.test/")).contains("hello from other.test via 203.0.113.11");
        assertThat(fetch(guestA, "https://api.wild.test/index.html")).contains("hello via 203.0.113.12 over TLS");
        assertThat(guestA.sh("echo hi | nc 198.51.100.7 7").output()).contains("echo:hi");
    }

    @Test
    @Order(2)
    void allowModeReachesOnlyListedDomainsAndRanges() throws Exception {
        assertThat(fetch(guestB, "http://allowed.test/")).contains("hello from allowed.test via 203.0.113.10");
        assertThat(fetch(guestB, "https://allowed.test/index.html")).contains("hello via 203.0.113.10 over TLS");
        assertThat(fetch(guestB, "https://api.wild.test/index.html")).contains("hello via 203.0.113.12 over TLS");
        assertThat(fetch(guestB, "http://198.51.100.7/")).contains("via 198.51.100.7");           // by range, any port
        assertThat(guestB.sh("echo hi | nc 198.51.100.7 7").output()).contains("echo:hi");

        TestGuest.Result name = timed(guestB, "timeout 8 wget -q -O - http://other.test/", Duration.ofSeconds(3));
        assertThat(name.code()).isNotZero();
        assertThat(name.output()).contains("bad address");
        TestGuest.Result literal = timed(guestB, "timeout 8 wget -q -O - http://203.0.113.11/", Duration.ofSeconds(3));
        assertThat(literal.code()).isNotZero();
        assertThat(literal.output()).contains("403");
        TestGuest.Result raw = timed(guestB, "printf 'GET / HTTP/1.0\\r\\nHost: 203.0.113.11\\r\\n\\r\\n' | nc 203.0.113.11 80", Duration.ofSeconds(3));
        assertThat(raw.output()).contains("403 Forbidden").contains("basalt: egress to 203.0.113.11 denied: 203.0.113.11 is not in the allow list");
        TestGuest.Result tls = timed(guestB, "timeout 8 wget -q -O - --no-check-certificate https://203.0.113.11/", Duration.ofSeconds(3));
        assertThat(tls.code()).isNotZero();
        TestGuest.Result port = timed(guestB, "echo hi | nc 203.0.113.10 7", Duration.ofSeconds(3));
        assertThat(port.output()).doesNotContain("echo:");
        assertThat(denials).anyMatch(d -> d.sandboxId().equals("sbx-b") && d.kind() == Denial.Kind.DNS && d.target().equals("other.test"));
        assertThat(denials).anyMatch(d -> d.sandboxId().equals("sbx-b") && d.kind() == Denial.Kind.CONNECTION);
    }

    @Test
    @Order(3)
    void aNameResolvingToAPrivateAddressIsRefusedByTheResolverAndTheProxy() throws Exception {
        TestGuest.Result dns = timed(guestB, "timeout 8 wget -q -O - http://rebind.test/", Duration.ofSeconds(3));
        assertThat(dns.code()).isNotZero();
        TestGuest.Result proxied = guestB.sh("printf 'GET / HTTP/1.0\\r\\nHost: rebind.test\\r\\n\\r\\n' | nc 203.0.113.10 80");
        assertThat(proxied.output()).contains("403 Forbidden").contains("10.99.0.1 is in the reserved range 10.0.0.0/8");
        TestGuest.Result host = guestB.sh("printf 'GET / HTTP/1.0\\r\\nHost: 203.0.113.1\\r\\n\\r\\n' | nc 203.0.113.10 80");
        assertThat(host.output()).contains("403 Forbidden").contains("203.0.113.1 is the host itself");
    }

    @Test
    @Order(4)
    void theHostPrivateRangesAndOtherSandboxesAreUnreachableInEveryMode() throws Exception {
        Slot b = net.slotOf("sbx-b");
        for (TestGuest g : List.of(guestA, guestB)) {
            for (String target : List.of("203.0.113.1 2222", "169.254.0.22 2222", "10.99.0.1 7", "10.99.0.1 80", b.hostIp() + " 2222",
                    net.slotOf("sbx-a").slotIp() + " 80", b.slotIp() + " 80")) {
                TestGuest.Result r = timed(g, "echo hi | nc -w 2 " + target, Duration.ofSeconds(3));
                assertThat(r.output()).as("nc %s", target).doesNotContain("echo:");
            }
            assertThat(g.sh("ping -c 1 -W 1 10.99.0.1").code()).isNotZero();
        }
        assertThat(guestA.sh("ping -c 1 -W 2 203.0.113.10").code()).isZero();
    }

    @Test
    @Order(5)
    void aLivePolicyChangeTakesEffectAtOnce() throws Exception {
        assertThat(guestB.sh("timeout 8 wget -q -O - http://other.test/").code()).isNotZero();
        net.setPolicy("sbx-b", NetworkPolicy.allow("allowed.test", "other.test"));
        assertThat(fetch(guestB, "http://other.test/")).contains("hello from other.test");
        assertThat(guestB.sh("echo hi | nc -w 2 198.51.100.7 7").output()).doesNotContain("echo:");   // range gone
        net.setPolicy("sbx-b", NetworkPolicy.open().withDeny("allowed.test", "203.0.113.12"));
        assertThat(guestB.sh("timeout 8 wget -q -O - http://allowed.test/").code()).isNotZero();
        assertThat(guestB.sh("echo hi | nc -w 2 203.0.113.12 7").output()).doesNotContain("echo:");
        assertThat(fetch(guestB, "http://other.test/")).contains("hello from other.test");
        net.setPolicy("sbx-b", NetworkPolicy.allow("allowed.test", "*.wild.test", "rebind.test", "198.51.100.0/24"));
    }

    @Test
    @Order(6)
    void portForwardsReachAGuestServer() throws Exception {
        assertThat(guestA.sh("mkdir -p /tmp/www && echo served-by-guest > /tmp/www/index.html && httpd -p 8080 -h /tmp/www").code()).isZero();
        PortForward f = net.forwardPort("sbx-a", 8080, new InetSocketAddress("127.0.0.1", 0));
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + f.hostPort() + "/index.html"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.body()).isEqualTo("served-by-guest\n");
        assertThatThrownBy(() -> net.forwardPort("sbx-a", 8080, new InetSocketAddress("127.0.0.1", 0)))
                .isInstanceOf(BasaltException.AlreadyExists.class);
        assertThatThrownBy(() -> net.forwardPort("sbx-b", 8080, new InetSocketAddress("127.0.0.1", f.hostPort())))
                .isInstanceOf(BasaltException.AlreadyExists.class).hasMessageContaining("cannot listen");
        net.unforwardPort("sbx-a", 8080);
    }

    @Test
    @Order(7)
    void bytesAndRefusalsAreCountedPerSandbox() throws Exception {
        assertThat(guestA.sh("wget -q -O /tmp/big http://203.0.113.10/big && wc -c < /tmp/big && rm /tmp/big").output()).contains("8388608");
        NetworkStats a = net.stats("sbx-a");
        NetworkStats b = net.stats("sbx-b");
        assertThat(a.bytesIn()).isGreaterThan(8_000_000);
        assertThat(a.bytesOut()).isGreaterThan(0);
        assertThat(b.deniedDns()).isPositive();
        assertThat(b.deniedConnections()).isPositive();
        assertThat(b.deniedPackets()).isPositive();
    }

    @Test
    @Order(8)
    void badInputIsRefusedClearly() {
        assertThatThrownBy(() -> net.setPolicy("nope", NetworkPolicy.open())).isInstanceOf(BasaltException.WrongState.class);
        assertThatThrownBy(() -> net.attach("sbx-a", NetworkPolicy.open())).isInstanceOf(BasaltException.AlreadyExists.class);
        net.attach("sbx-c", NetworkPolicy.open());
        assertThatThrownBy(() -> net.attach("sbx-d", NetworkPolicy.open())).isInstanceOf(BasaltException.ResourceExhausted.class);
        net.detach("sbx-c");
        assertThatThrownBy(() -> net.attach("sbx-e", NetworkPolicy.none())).isInstanceOf(BasaltException.InvalidArgument.class);
    }
}
