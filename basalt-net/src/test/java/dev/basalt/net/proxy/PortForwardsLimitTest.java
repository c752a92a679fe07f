package dev.basalt.net.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.net.host.NetNamespace;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/**
 * A sandbox holds at most {@link PortForwards#MAX_PER_SANDBOX} forwards (each is a listening
 * socket of the daemon, and basaltd's E2B endpoint opens them on request); another sandbox is not
 * affected, and a removed forward makes room. Real listeners on loopback; no guest is needed.
 */
class PortForwardsLimitTest {
    @Test
    void aSandboxCannotHoldMoreThanItsShareOfListeners() {
        try (PortForwards forwards = new PortForwards(NetNamespace.current())) {
            InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
            for (int port = 1; port <= PortForwards.MAX_PER_SANDBOX; port++) {
                forwards.add("greedy", "10.203.99.2", port, any);
            }
            assertThatThrownBy(() -> forwards.add("greedy", "10.203.99.2", 9999, any))
                    .isInstanceOf(BasaltException.ResourceExhausted.class).hasMessageContaining("64 port forwards");
            assertThat(forwards.add("other", "10.203.99.3", 9999, any).hostPort()).isPositive();
            forwards.remove("greedy", 1);
            assertThat(forwards.add("greedy", "10.203.99.2", 9999, any).guestPort()).isEqualTo(9999);
            assertThat(forwards.list("greedy")).hasSize(PortForwards.MAX_PER_SANDBOX);
        }
    }
}
