package dev.basalt.net;

import dev.basalt.api.DomainNames;
import dev.basalt.api.EgressRule;
import dev.basalt.api.NetworkMode;
import dev.basalt.api.NetworkPolicy;
import dev.basalt.net.rules.AlwaysDenied;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Decides names and addresses for the host-side resolver and proxies, with the same meaning the
 * nftables rules give address ranges: deny entries win, {@link AlwaysDenied} ranges, the slot
 * network and the host's own addresses are never reachable, {@code OPEN} allows the rest,
 * {@code ALLOW} and {@code PROXY} only what an allow entry names. Thread-safe.
 */
public final class EgressCheck {
    private final EgressRule.Cidr slotNetwork;
    private final Supplier<Set<Integer>> hostAddresses;

    /**
     * @param slotNetwork   the slots' addresses (never a destination)
     * @param hostAddresses the host namespace's own IPv4 addresses, read when needed
     */
    public EgressCheck(EgressRule.Cidr slotNetwork, Supplier<Set<Integer>> hostAddresses) {
        this.slotNetwork = slotNetwork;
        this.hostAddresses = hostAddresses;
    }

    /** Lowercase, without a trailing dot; null if it is not a syntactically valid host name or IPv4 literal. */
    public static String normalize(String host) {
        if (host == null) {
            return null;
        }
        String h = host.toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        if (ipv4(h) != null) {
            return h;
        }
        return DomainNames.problem(h) == null ? h : null;
    }

    /** The value of a dotted-quad IPv4 literal, or null if {@code host} is not one. */
    public static Integer ipv4(String host) {
        if (host == null || host.isEmpty() || host.length() > 15 || !host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'))) {
            return null;
        }
        try {
            return EgressRule.Cidr.parseAddress(host, host);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** The value of a 4-byte IPv4 address. */
    public static int ipv4(byte[] b) {
        return ((b[0] & 255) << 24) | ((b[1] & 255) << 16) | ((b[2] & 255) << 8) | (b[3] & 255);
    }

    /** May a sandbox with {@code policy} reach the host name {@code host} (already normalized)? */
    public Decision name(NetworkPolicy policy, String host) {
        if (host == null) {
            return Decision.deny("not a valid host name");
        }
        Integer literal = ipv4(host);
        if (literal != null) {
            return address(policy, literal, false);
        }
        for (EgressRule r : policy.deny()) {
            if (r instanceof EgressRule.Domain d && d.matches(host)) {
                return Decision.deny("denied by the rule " + d.text());
            }
        }
        return switch (policy.mode()) {
            case NONE -> Decision.deny("the sandbox has no network");
            case OPEN -> Decision.ALLOW;
            case ALLOW, PROXY -> {
                for (EgressRule r : policy.allow()) {
                    if (r instanceof EgressRule.Domain d && d.matches(host)) {
                        yield Decision.ALLOW;
                    }
                }
                yield Decision.deny("not in the allow list");
            }
        };
    }

    /**
     * May a sandbox with {@code policy} connect to {@code ip}? {@code viaAllowedName}: the address
     * is what an allowed name resolved to, which an allow entry then need not name.
     */
    public Decision address(NetworkPolicy policy, int ip, boolean viaAllowedName) {
        EgressRule.Cidr special = AlwaysDenied.rangeOf(ip);
        if (special != null) {
            return Decision.deny(EgressRule.Cidr.format(ip) + " is in the reserved range " + special.text());
        }
        if (slotNetwork.contains(ip)) {
            return Decision.deny(EgressRule.Cidr.format(ip) + " is another sandbox");
        }
        if (hostAddresses.get().contains(ip)) {
            return Decision.deny(EgressRule.Cidr.format(ip) + " is the host itself");
        }
        for (EgressRule r : policy.deny()) {
            if (r instanceof EgressRule.Cidr c && c.contains(ip)) {
                return Decision.deny(EgressRule.Cidr.format(ip) + " is denied by the rule " + c.text());
            }
        }
        if (policy.mode() == NetworkMode.NONE) {
            return Decision.deny("the sandbox has no network");
        }
        if (policy.mode() == NetworkMode.OPEN || viaAllowedName) {
            return Decision.ALLOW;
        }
        for (EgressRule r : policy.allow()) {
            if (r instanceof EgressRule.Cidr c && c.contains(ip)) {
                return Decision.ALLOW;
            }
        }
        return Decision.deny(EgressRule.Cidr.format(ip) + " is not in the allow list");
    }
}
