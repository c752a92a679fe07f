package dev.basalt.api;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * A sandbox's network: its mode and egress lists. Never reachable in any mode: the host itself,
 * private, loopback, link-local, shared and multicast ranges, other sandboxes. Deny entries win
 * over allow entries. Domains are enforced on TLS (SNI) and HTTP (Host) connections to ports 443
 * and 80 and on DNS answers; address ranges on every protocol and port.
 *
 * @param mode  {@link NetworkMode}
 * @param allow what {@code ALLOW} and {@code PROXY} may reach; must be empty for {@code NONE} and {@code OPEN}
 * @param deny  what is refused even if allowed; must be empty for {@code NONE}
 */
public record NetworkPolicy(NetworkMode mode, List<EgressRule> allow, List<EgressRule> deny) {
    /** Entries per list at most. */
    public static final int MAX_RULES = 1024;

    public NetworkPolicy {
        Objects.requireNonNull(mode, "mode");
        allow = List.copyOf(new LinkedHashSet<>(Objects.requireNonNull(allow, "allow")));
        deny = List.copyOf(new LinkedHashSet<>(Objects.requireNonNull(deny, "deny")));
        if (allow.size() > MAX_RULES || deny.size() > MAX_RULES) {
            throw new BasaltException.InvalidArgument("at most " + MAX_RULES + " allow and " + MAX_RULES + " deny entries, got "
                    + allow.size() + " and " + deny.size());
        }
        if (mode == NetworkMode.NONE && (!allow.isEmpty() || !deny.isEmpty())) {
            throw new BasaltException.InvalidArgument("allow/deny entries need a network: use --net allow, open or proxy");
        }
        if (mode == NetworkMode.OPEN && !allow.isEmpty()) {
            throw new BasaltException.InvalidArgument("--net open reaches every public address already: use --net allow to list what is allowed, or --deny to refuse some");
        }
    }

    /** No network (the default). */
    public static NetworkPolicy none() {
        return new NetworkPolicy(NetworkMode.NONE, List.of(), List.of());
    }

    /** Every public address. */
    public static NetworkPolicy open() {
        return new NetworkPolicy(NetworkMode.OPEN, List.of(), List.of());
    }

    /** Only the given domains and ranges, each parsed with {@link EgressRule#parse}. */
    public static NetworkPolicy allow(String... rules) {
        return new NetworkPolicy(NetworkMode.ALLOW, parseAll(Arrays.asList(rules)), List.of());
    }

    /** No NIC; the in-guest HTTP(S) proxy reaches only the given domains and ranges. */
    public static NetworkPolicy proxy(String... rules) {
        return new NetworkPolicy(NetworkMode.PROXY, parseAll(Arrays.asList(rules)), List.of());
    }

    /** This policy with deny entries added. */
    public NetworkPolicy withDeny(String... rules) {
        List<EgressRule> d = new ArrayList<>(deny);
        d.addAll(parseAll(Arrays.asList(rules)));
        return new NetworkPolicy(mode, allow, d);
    }

    /** Parses each entry with {@link EgressRule#parse}. */
    public static List<EgressRule> parseAll(List<String> rules) {
        return rules.stream().map(EgressRule::parse).toList();
    }

    /** True if any allow or deny entry is a domain (so TCP to ports 80 and 443 goes through the proxy). */
    public boolean hasDomainRules() {
        return allow.stream().anyMatch(r -> r instanceof EgressRule.Domain) || deny.stream().anyMatch(r -> r instanceof EgressRule.Domain);
    }
}
