package dev.basalt.net.rules;

import dev.basalt.api.EgressRule;
import java.util.List;

/**
 * IPv4 ranges no sandbox reaches in any mode (RFC 6890 special-purpose ranges a sandbox has no
 * business with): "this network", private, shared (CGNAT), loopback, link-local (cloud metadata
 * services), IETF protocol assignments, benchmarking, multicast, reserved and broadcast. The
 * documentation ranges are not in it: tests use them as their "internet". The slot network and the
 * host's own addresses are refused as well, by the rules that know them.
 */
public final class AlwaysDenied {
    public static final List<EgressRule.Cidr> RANGES = List.of(
            "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
            "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/3").stream().map(EgressRule.Cidr::parse).toList();

    private AlwaysDenied() {}

    /** The range containing {@code ip}, or null if none does. */
    public static EgressRule.Cidr rangeOf(int ip) {
        for (EgressRule.Cidr c : RANGES) {
            if (c.contains(ip)) {
                return c;
            }
        }
        return null;
    }
}
