package dev.basalt.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.NetworkPolicy;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of the process that owns sandbox networking: the sandboxes' traffic keeps flowing, and
 * the next process takes over the slots of the sandboxes that survived (DNS and the proxy serve
 * them again) and sweeps every slot no sandbox owns.
 */
class RestartTest {
    static final NetworkPolicy KEEP_POLICY = NetworkPolicy.allow("allowed.test", "203.0.113.10/32");
    @TempDir
    Path dir;

    @Test
    void aRestartedOwnerKeepsSurvivingSandboxesNetworkedAndSweepsTheRest() throws Exception {
        try (FakeInternet inet = new FakeInternet()) {
            inet.dnsmasq(dir, "allowed.test=203.0.113.10");
            inet.onClose(TestServers.http(inet.inet, "203.0.113.10", 80));
            String slotNet = "10.203.9.0/24";
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), NetChild.class.getName(),
                    inet.prefix, inet.hostNs, inet.uplink, slotNet, FakeInternet.DNS_IP)
                    .redirectError(dir.resolve("child.err").toFile()).start();
            inet.onClose(child::destroyForcibly);
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()));
            String line = out.readLine();
            assertThat(line).as("child said: %s; stderr: %s", line, Files.readString(dir.resolve("child.err"))).startsWith("SLOTS ");
            String[] w = line.split(" ");
            NetConfig config = inet.netConfig(3, 1, slotNet);
            Slot keep = new Slot(Integer.parseInt(w[1]), config.slotName(Integer.parseInt(w[1])),
                    config.hostAddress(Integer.parseInt(w[1])), config.slotAddress(Integer.parseInt(w[1])));
            Slot gone = new Slot(Integer.parseInt(w[2]), config.slotName(Integer.parseInt(w[2])),
                    config.hostAddress(Integer.parseInt(w[2])), config.slotAddress(Integer.parseInt(w[2])));
            try (TestGuest guest = TestGuest.boot(keep.namespace(), dir)) {
                assertThat(guest.sh("wget -q -O - http://allowed.test/").output()).contains("hello from allowed.test");

                child.destroyForcibly();   // SIGKILL: nothing of it runs again
                assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
                Object goneNs = Files.getAttribute(Path.of("/run/netns", gone.namespace()), "unix:ino");   // the namespace's identity
                // with no owner, what nftables decides alone keeps flowing (the proxy and DNS are gone)
                assertThat(guest.sh("wget -q -O - http://203.0.113.10/").output()).contains("hello from 203.0.113.10");

                HostNetwork net = HostNetwork.start(config, List.of(new SlotPool.Leased(keep, "keep", KEEP_POLICY)), d -> { });
                try {
                    // an unowned slot is swept (its index may be made again at once as a spare: a new namespace)
                    Path again = Path.of("/run/netns", gone.namespace());
                    assertThat(Files.exists(again) ? Files.getAttribute(again, "unix:ino") : null).as("an unowned slot is swept").isNotEqualTo(goneNs);
                    assertThat(net.slotOf("keep")).isEqualTo(keep);
                    assertThat(guest.sh("wget -q -O - http://allowed.test/").output()).contains("hello from allowed.test");
                    assertThat(guest.sh("wget -q -O - http://other.test/").code()).isNotZero();
                    assertThat(net.stats("keep").bytesOut()).isPositive();
                } finally {
                    net.close();
                }
            }
            GuestNetworkTest.assertNothingLeftBut(inet.prefix, List.of(inet.hostNs, inet.inetNs));
        }
    }
}
