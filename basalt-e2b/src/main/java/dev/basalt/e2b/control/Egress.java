package dev.basalt.e2b.control;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.basalt.api.BasaltException;
import dev.basalt.api.EgressRule;
import dev.basalt.api.NetworkMode;
import dev.basalt.api.NetworkPolicy;
import dev.basalt.e2b.HttpJson;
import dev.basalt.e2b.control.ApiMessages.SandboxNetwork;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The egress settings of an E2B create as a Basalt {@link NetworkPolicy}. In E2B's API,
 * {@code allow_internet_access} is on unless it says false (false is "denyOut 0.0.0.0/0"), and
 * {@code network.allowOut} entries win over {@code network.denyOut} ones; in Basalt a deny entry
 * wins. The two shapes that mean the same in both are mapped, everything else is refused:
 * <ul>
 * <li>no lists: on → {@code open} (the always-denied ranges still apply), off → {@code none} (no
 *     network interface at all);</li>
 * <li>everything denied ({@code allow_internet_access: false} or {@code 0.0.0.0/0} in denyOut) with
 *     lists → {@code allow} with allowOut's entries (addresses, ranges, domains; none: a network
 *     interface that reaches nothing); other denyOut entries change nothing then;</li>
 * <li>internet on with a denyOut list → {@code open} refusing denyOut's ranges; an allowOut list
 *     beside it would make exceptions inside the denied ranges, which Basalt cannot: 400; an allowOut
 *     list alone restricts nothing in E2B's terms, and is refused rather than silently ignored.</li>
 * </ul>
 * Request transforms ({@code rules}), an egress proxy, {@code maskRequestHost}, {@code httpsPorts}
 * and {@code allowPublicTraffic: false} are refused (400) with the reason.
 */
final class Egress {
    /** E2B's "all traffic" range. */
    static final String ALL_TRAFFIC = "0.0.0.0/0";

    private Egress() {
    }

    /** The policy of a new sandbox; {@link BasaltException.InvalidArgument} for what Basalt cannot honour. */
    static NetworkPolicy policy(Boolean allowInternetAccess, JsonNode network) throws JsonProcessingException {
        boolean internet = !Boolean.FALSE.equals(allowInternetAccess);
        SandboxNetwork n = parse(network);
        List<EgressRule> allow = rules("allowOut", n.allowOut());
        List<EgressRule> deny = rules("denyOut", n.denyOut());
        for (EgressRule r : deny) {
            if (r instanceof EgressRule.Domain) {
                throw new BasaltException.InvalidArgument("network.denyOut takes IPv4 addresses and ranges, not domains ('" + r.text()
                        + "'): to reach only some domains, list them in allowOut with denyOut ['" + ALL_TRAFFIC + "']");
            }
        }
        if (allow.isEmpty() && deny.isEmpty()) {
            return internet ? NetworkPolicy.open() : NetworkPolicy.none();
        }
        boolean denyAll = !internet || deny.stream().anyMatch(r -> r instanceof EgressRule.Cidr c && c.prefixLength() == 0);
        if (denyAll) {
            return new NetworkPolicy(NetworkMode.ALLOW, allow, List.of());
        }
        if (!allow.isEmpty() && deny.isEmpty()) {
            throw new BasaltException.InvalidArgument("network.allowOut alone restricts nothing (in E2B's API allowed entries are "
                    + "exceptions to denyOut): to reach only these, add denyOut ['" + ALL_TRAFFIC + "'] or allowInternetAccess: false");
        }
        if (!allow.isEmpty()) {
            throw new BasaltException.InvalidArgument("network.allowOut beside a denyOut list without '" + ALL_TRAFFIC
                    + "' would make exceptions inside the denied ranges, which Basalt cannot (its deny entries win): either deny "
                    + "everything else (denyOut ['" + ALL_TRAFFIC + "'] or allowInternetAccess: false) and list what is allowed, "
                    + "or list only what is denied");
        }
        return new NetworkPolicy(NetworkMode.OPEN, List.of(), deny);
    }

    /** E2B's view of a sandbox's policy: the lists, null for one without a network interface. */
    static ApiMessages.NetworkDetail detail(NetworkPolicy policy) {
        return switch (policy.mode()) {
            case NONE, PROXY -> null;
            case OPEN -> new ApiMessages.NetworkDetail(List.of(), texts(policy.deny()));
            case ALLOW -> new ApiMessages.NetworkDetail(texts(policy.allow()), List.of(ALL_TRAFFIC));
        };
    }

    /** Whether E2B would say the sandbox has internet access: what create asked, else whether it is open. */
    static boolean internet(Boolean asked, NetworkPolicy policy) {
        return asked != null ? asked : policy.mode() == NetworkMode.OPEN;
    }

    private static List<String> texts(List<EgressRule> rules) {
        return rules.stream().map(EgressRule::text).toList();
    }

    private static SandboxNetwork parse(JsonNode network) throws JsonProcessingException {
        if (network == null || network.isNull()) {
            return new SandboxNetwork(null, null, null, null, null, null, null);
        }
        if (!network.isObject()) {
            throw new BasaltException.InvalidArgument("network must be an object with allowOut and denyOut lists");
        }
        for (Iterator<String> names = network.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!SandboxNetwork.FIELDS.contains(name)) {
                throw new BasaltException.InvalidArgument("network." + name + " is not a field of E2B's network settings");
            }
        }
        SandboxNetwork n = HttpJson.JSON.treeToValue(network, SandboxNetwork.class);
        if (present(n.rules()) && !(n.rules().isObject() && n.rules().isEmpty())) {
            throw new BasaltException.InvalidArgument("network.rules (request transforms) are not supported by Basalt");
        }
        if (present(n.egressProxy())) {
            throw new BasaltException.InvalidArgument("network.egressProxy is not supported by Basalt");
        }
        if (n.maskRequestHost() != null) {
            throw new BasaltException.InvalidArgument("network.maskRequestHost is not supported by Basalt: requests to a sandbox's "
                    + "ports reach it with Host 127.0.0.1:<port> and the original in X-Forwarded-Host");
        }
        if (present(n.httpsPorts()) && !(n.httpsPorts().isArray() && n.httpsPorts().isEmpty())) {
            throw new BasaltException.InvalidArgument("network.httpsPorts is not supported by Basalt: requests reach a sandbox's ports as plain HTTP");
        }
        if (Boolean.FALSE.equals(n.allowPublicTraffic())) {
            throw new BasaltException.InvalidArgument("network.allowPublicTraffic: false is not supported by Basalt: a sandbox's ports "
                    + "answer every client of basaltd's E2B endpoint (which listens on loopback only)");
        }
        return n;
    }

    private static List<EgressRule> rules(String field, List<String> entries) {
        List<EgressRule> out = new ArrayList<>();
        if (entries == null) {
            return out;
        }
        for (String e : entries) {
            if (e == null) {
                throw new BasaltException.InvalidArgument("network." + field + " holds a null entry");
            }
            try {
                out.add(EgressRule.parse(e));
            } catch (BasaltException.InvalidArgument x) {
                throw new BasaltException.InvalidArgument("network." + field + ": " + x.getMessage(), x);
            }
        }
        return out;
    }

    private static boolean present(JsonNode node) {
        return node != null && !node.isNull();
    }
}
