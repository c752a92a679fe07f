package dev.basalt.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.NetworkPolicy;
import dev.basalt.net.host.Commands;
import dev.basalt.net.rules.HostRuleset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The slot pool against real namespaces, veths, TAPs and nftables (needs root). */
class SlotPoolTest {

    private static boolean netnsExists(String name) {
        return Files.exists(Path.of("/run/netns", name));
    }

    @Test
    void slotsAreMadeHandedOutRecycledAndSweptWithoutLeaks() throws Exception {
        try (FakeInternet net = new FakeInternet()) {
            NetConfig config = NetConfig.defaults().withPrefix(net.prefix).withSlots(3, 1).withSlotNetwork("10.203.0.0/24")
                    .withHostNamespace(net.hostNs).withUplink(net.uplink);
            HostRuleset rules = new HostRuleset(config, new HostRuleset.Ports(5353, 8080, 8443));
            SlotPool pool = new SlotPool(config, net.host, rules);
            try {
                pool.start(Map.of());
                Slot a = pool.acquire("sandbox-a", NetworkPolicy.open());
                Slot b = pool.acquire("sandbox-b", NetworkPolicy.allow("example.com", "203.0.113.0/24"));
                Slot c = pool.acquire("sandbox-c", NetworkPolicy.allow("203.0.113.10"));
                assertThat(List.of(a.index(), b.index(), c.index())).containsExactlyInAnyOrder(0, 1, 2);
                assertThatThrownBy(() -> pool.acquire("sandbox-d", NetworkPolicy.open()))
                        .isInstanceOf(BasaltException.ResourceExhausted.class).hasMessageContaining("all 3 network slots are in use");
                assertThat(netnsExists(a.namespace())).isTrue();
                String links = Commands.run(List.of("ip", "-n", a.namespace(), "-o", "link"), null).stdout();
                assertThat(links).contains("tap0").contains("veth0");
                String table = Commands.run(net.host.exec("nft", "list", "table", "inet", net.prefix), null).stdout();
                assertThat(table).contains("redirect to :8443").contains("203.0.113.0/24");
                assertThat(pool.leaseByAddress(b.slotAddress()).sandboxId()).isEqualTo("sandbox-b");

                pool.release(a);
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (pool.freeSlots() < 1 && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertThat(pool.freeSlots()).isEqualTo(1);
                Slot again = pool.acquire("sandbox-e", NetworkPolicy.open());
                assertThat(again.index()).isEqualTo(a.index());
            } finally {
                pool.close();
            }
            for (int i = 0; i < 3; i++) {
                assertThat(netnsExists(config.slotName(i))).as("namespace %s", config.slotName(i)).isFalse();
            }
            assertThat(Commands.run(net.host.exec("nft", "list", "tables"), null).stdout()).doesNotContain(net.prefix);
            assertThat(Commands.run(net.host.ip("-o", "link"), null).stdout()).doesNotContain(net.prefix + "-s");
        }
    }
}
