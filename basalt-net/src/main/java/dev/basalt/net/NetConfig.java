package dev.basalt.net;

import dev.basalt.api.BasaltException;
import dev.basalt.api.EgressRule;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;

/**
 * How the host side of sandbox networking is laid out.
 *
 * @param prefix        names everything Basalt makes, so a restart can sweep it: namespaces and host
 *                      veths {@code PREFIX-sN}, the host's nftables table {@code inet PREFIX}
 *                      ({@code [a-z][a-z0-9]{0,7}})
 * @param slots         at most this many networked sandboxes at once (1..4096)
 * @param spareSlots    slots kept made ahead, so that taking one does not wait (0..slots)
 * @param slotNetwork   each slot gets a /31 of it (host end, slot end); also refused as a destination
 * @param hostNamespace the namespace that plays the host (the uplink, the proxy, the resolver);
 *                      null for the process's own. Tests point it at a namespace they made.
 * @param uplink        the host interface egress leaves through; null: no egress at all
 * @param dnsUpstreams  the resolvers the host-side DNS server and the proxy ask
 */
public record NetConfig(String prefix, int slots, int spareSlots, EgressRule.Cidr slotNetwork, String hostNamespace,
                        String uplink, List<InetSocketAddress> dnsUpstreams) {
    public static final int MAX_SLOTS = 4096;

    public NetConfig {
        Objects.requireNonNull(prefix, "prefix");
        if (!prefix.matches("[a-z][a-z0-9]{0,7}")) {
            throw new BasaltException.InvalidArgument("network name prefix '" + prefix + "' is invalid: 1-8 lowercase letters and digits, starting with a letter");
        }
        if (slots < 1 || slots > MAX_SLOTS) {
            throw new BasaltException.InvalidArgument("network slots must be between 1 and " + MAX_SLOTS + ", got " + slots);
        }
        if (spareSlots < 0 || spareSlots > slots) {
            throw new BasaltException.InvalidArgument("spare network slots must be between 0 and " + slots + ", got " + spareSlots);
        }
        Objects.requireNonNull(slotNetwork, "slotNetwork");
        if (slotNetwork.prefixLength() > 31 || (1L << (32 - slotNetwork.prefixLength())) < 2L * slots) {
            throw new BasaltException.InvalidArgument("slot network " + slotNetwork.text() + " is too small for " + slots + " slots (each needs a /31)");
        }
        if (uplink != null && !uplink.matches("[A-Za-z0-9_.@-]{1,15}")) {
            throw new BasaltException.InvalidArgument("uplink interface name '" + uplink + "' is invalid");
        }
        dnsUpstreams = List.copyOf(Objects.requireNonNull(dnsUpstreams, "dnsUpstreams"));
    }

    /** 64 slots, 2 spare, {@code 10.203.0.0/16}, the process's namespace, no uplink yet, no upstream yet. */
    public static NetConfig defaults() {
        return new NetConfig("basalt", 64, 2, EgressRule.Cidr.parse("10.203.0.0/16"), null, null, List.of());
    }

    public NetConfig withPrefix(String prefix) {
        return new NetConfig(prefix, slots, spareSlots, slotNetwork, hostNamespace, uplink, dnsUpstreams);
    }

    public NetConfig withSlots(int slots, int spareSlots) {
        return new NetConfig(prefix, slots, spareSlots, slotNetwork, hostNamespace, uplink, dnsUpstreams);
    }

    public NetConfig withSlotNetwork(String cidr) {
        return new NetConfig(prefix, slots, spareSlots, EgressRule.Cidr.parse(cidr), hostNamespace, uplink, dnsUpstreams);
    }

    public NetConfig withHostNamespace(String hostNamespace) {
        return new NetConfig(prefix, slots, spareSlots, slotNetwork, hostNamespace, uplink, dnsUpstreams);
    }

    public NetConfig withUplink(String uplink) {
        return new NetConfig(prefix, slots, spareSlots, slotNetwork, hostNamespace, uplink, dnsUpstreams);
    }

    public NetConfig withDnsUpstreams(List<InetSocketAddress> dnsUpstreams) {
        return new NetConfig(prefix, slots, spareSlots, slotNetwork, hostNamespace, uplink, dnsUpstreams);
    }

    /** The name of slot {@code index}'s namespace and of its host-side veth. */
    public String slotName(int index) {
        return prefix + "-s" + index;
    }

    /** The host end of slot {@code index}'s /31. */
    public int hostAddress(int index) {
        return slotNetwork.address() + 2 * index;
    }

    /** The slot end of slot {@code index}'s /31: the address the sandbox appears as on the host. */
    public int slotAddress(int index) {
        return slotNetwork.address() + 2 * index + 1;
    }

    /** The slot index whose slot address is {@code ip}, or -1. */
    public int slotIndexOf(int ip) {
        long offset = Integer.toUnsignedLong(ip) - Integer.toUnsignedLong(slotNetwork.address());
        if (offset < 0 || offset % 2 != 1 || offset / 2 >= slots) {
            return -1;
        }
        return (int) (offset / 2);
    }
}
