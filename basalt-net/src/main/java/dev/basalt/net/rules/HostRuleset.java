package dev.basalt.net.rules;

import dev.basalt.api.EgressRule;
import dev.basalt.api.NetworkMode;
import dev.basalt.api.NetworkPolicy;
import dev.basalt.net.NetConfig;
import dev.basalt.net.Slot;
import java.util.List;
import java.util.StringJoiner;
import java.util.stream.Collectors;

/**
 * The host namespace's nftables table {@code inet PREFIX}, where every decision about a
 * sandbox's traffic is made (the slot namespace only translates addresses):
 * <ul>
 * <li>traffic from a slot's veth may only be forwarded out of the uplink, never to the always
 *     denied ranges or the slot network, then as the slot's own chain {@code fwd_N} says;</li>
 * <li>DNS (port 53, any address) is redirected to the host-side resolver; with domain rules, TCP
 *     to ports 80 and 443 not allowed by address goes to the transparent proxy ({@code pre_N});</li>
 * <li>the host itself accepts nothing from a slot but those redirected ports;</li>
 * <li>nothing from outside opens a connection into a slot;</li>
 * <li>per slot: bytes out ({@code out_N}), bytes in ({@code in_N}), refused packets ({@code denied_N}).</li>
 * </ul>
 * Refused TCP gets a reset and everything else an ICMP "administratively prohibited", so a guest
 * fails at once instead of timing out.
 */
public final class HostRuleset {
    private final NetConfig config;
    private final Ports ports;

    /** The host-side listeners the table redirects to. */
    public record Ports(int dns, int http, int tls) {}

    public HostRuleset(NetConfig config, Ports ports) {
        this.config = config;
        this.ports = ports;
    }

    private String table() {
        return "inet " + config.prefix();
    }

    /** Replaces the table (if any) with a fresh one holding {@code slots} with their policies, atomically. */
    public String renderTable(List<Slot> slots, List<NetworkPolicy> policies) {
        String t = config.prefix();
        String uplinkRule = config.uplink() == null ? "jump deny" : "oifname != \"" + config.uplink() + "\" jump deny";
        String masquerade = config.uplink() == null ? "" : "iifname @slots oifname \"" + config.uplink() + "\" masquerade";
        String denied = AlwaysDenied.RANGES.stream().map(EgressRule.Cidr::text).collect(Collectors.joining(", "))
                + ", " + config.slotNetwork().text();
        StringBuilder b = new StringBuilder();
        b.append("table ").append(table()).append(" {}\n");
        b.append("delete table ").append(table()).append('\n');
        b.append("""
                table inet %1$s {
                  set slots { type ifname; }
                  set always_deny { type ipv4_addr; flags interval; auto-merge; elements = { %2$s } }
                  map pre_slot { type ifname : verdict; }
                  map fwd_slot { type ifname : verdict; }
                  map ctr_out { type ifname : counter; }
                  map ctr_in { type ifname : counter; }
                  map ctr_denied { type ifname : counter; }
                  chain deny {
                    counter name iifname map @ctr_denied
                    meta l4proto tcp reject with tcp reset
                    reject with icmpx type admin-prohibited
                  }
                  chain count_in {
                    type filter hook prerouting priority -300; policy accept;
                    iifname @slots counter name iifname map @ctr_out
                    iifname @slots meta nfproto ipv6 drop
                  }
                  chain count_out {
                    type filter hook postrouting priority 300; policy accept;
                    oifname @slots counter name oifname map @ctr_in
                  }
                  chain prerouting {
                    type nat hook prerouting priority dstnat; policy accept;
                    iifname @slots meta l4proto { tcp, udp } th dport 53 redirect to :%3$d
                    iifname vmap @pre_slot
                  }
                  chain from_slot {
                    ct state established,related accept
                    %5$s
                    ip daddr @always_deny jump deny
                    iifname vmap @fwd_slot
                    jump deny
                  }
                  chain forward {
                    type filter hook forward priority filter; policy accept;
                    iifname @slots jump from_slot
                    oifname @slots ct state established,related accept
                    oifname @slots drop
                  }
                  chain slot_input {
                    ct state established,related accept
                    meta l4proto { tcp, udp } th dport %3$d accept
                    tcp dport { %4$s } accept
                    jump deny
                  }
                  chain input {
                    type filter hook input priority filter; policy accept;
                    iifname @slots jump slot_input
                    meta l4proto { tcp, udp } th dport %3$d drop
                    tcp dport { %4$s } drop
                  }
                  chain postrouting {
                    type nat hook postrouting priority srcnat; policy accept;
                    %6$s
                  }
                }
                """.formatted(t, denied, ports.dns(), ports.http() + ", " + ports.tls(), uplinkRule, masquerade));
        for (int i = 0; i < slots.size(); i++) {
            b.append(addSlot(slots.get(i)));
            b.append(policy(slots.get(i), policies.get(i)));
        }
        return b.toString();
    }

    /** Adds slot objects (counters, sets, chains, map entries) for a new slot; its policy refuses everything. */
    public String addSlot(Slot slot) {
        int n = slot.index();
        String v = '"' + slot.hostVeth() + '"';
        String t = table();
        return """
                add counter %1$s out_%2$d
                add counter %1$s in_%2$d
                add counter %1$s denied_%2$d
                add set %1$s allow_%2$d { type ipv4_addr; flags interval; auto-merge; }
                add set %1$s deny_%2$d { type ipv4_addr; flags interval; auto-merge; }
                add chain %1$s pre_%2$d
                add chain %1$s fwd_%2$d
                add element %1$s slots { %3$s }
                add element %1$s pre_slot { %3$s : jump pre_%2$d }
                add element %1$s fwd_slot { %3$s : jump fwd_%2$d }
                add element %1$s ctr_out { %3$s : "out_%2$d" }
                add element %1$s ctr_in { %3$s : "in_%2$d" }
                add element %1$s ctr_denied { %3$s : "denied_%2$d" }
                """.formatted(t, n, v);
    }

    /**
     * Replaces a slot's policy: its address sets and its two chains, in one transaction (apply it
     * with one {@code nft -f}). A null policy refuses everything (a free slot).
     */
    public String policy(Slot slot, NetworkPolicy policy) {
        int n = slot.index();
        String t = table();
        StringBuilder b = new StringBuilder();
        b.append("flush chain ").append(t).append(" pre_").append(n).append('\n');
        b.append("flush chain ").append(t).append(" fwd_").append(n).append('\n');
        b.append("flush set ").append(t).append(" allow_").append(n).append('\n');
        b.append("flush set ").append(t).append(" deny_").append(n).append('\n');
        if (policy == null || !policy.mode().hasNic()) {
            return b.toString();   // empty fwd_N: from_slot refuses everything
        }
        String allow = cidrs(policy.allow());
        String deny = cidrs(policy.deny());
        if (!allow.isEmpty()) {
            b.append("add element ").append(t).append(" allow_").append(n).append(" { ").append(allow).append(" }\n");
        }
        if (!deny.isEmpty()) {
            b.append("add element ").append(t).append(" deny_").append(n).append(" { ").append(deny).append(" }\n");
        }
        if (policy.hasDomainRules()) {
            // what an address rule decides skips the proxy; the rest of HTTP(S) is decided by name
            b.append("add rule ").append(t).append(" pre_").append(n).append(" ip daddr @deny_").append(n).append(" return\n");
            if (policy.mode() == NetworkMode.ALLOW) {
                b.append("add rule ").append(t).append(" pre_").append(n).append(" ip daddr @allow_").append(n).append(" return\n");
            }
            b.append("add rule ").append(t).append(" pre_").append(n).append(" tcp dport 80 redirect to :").append(ports.http()).append('\n');
            b.append("add rule ").append(t).append(" pre_").append(n).append(" tcp dport 443 redirect to :").append(ports.tls()).append('\n');
        }
        b.append("add rule ").append(t).append(" fwd_").append(n).append(" ip daddr @deny_").append(n).append(" jump deny\n");
        if (policy.mode() == NetworkMode.OPEN) {
            b.append("add rule ").append(t).append(" fwd_").append(n).append(" accept\n");
        } else {
            b.append("add rule ").append(t).append(" fwd_").append(n).append(" ip daddr @allow_").append(n).append(" accept\n");
        }
        return b.toString();
    }

    /** Zeroes a slot's counters (when it is handed to a new sandbox). */
    public String resetCounters(Slot slot) {
        int n = slot.index();
        return "reset counter %1$s out_%2$d\nreset counter %1$s in_%2$d\nreset counter %1$s denied_%2$d\n".formatted(table(), n);
    }

    private static String cidrs(List<EgressRule> rules) {
        StringJoiner j = new StringJoiner(", ");
        for (EgressRule r : rules) {
            if (r instanceof EgressRule.Cidr c) {
                j.add(c.text());
            }
        }
        return j.toString();
    }
}
