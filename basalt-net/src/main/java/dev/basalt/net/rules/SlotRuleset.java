package dev.basalt.net.rules;

import dev.basalt.net.GuestNetwork;
import dev.basalt.net.Slot;

/**
 * The nftables table inside one slot's namespace: the guest's fixed address is translated to the
 * slot's unique address on the way out (and back for port forwards), the guest's DNS to the
 * host's resolver, the guest may send only from its own address, and the slot namespace itself
 * accepts nothing from the guest. Policy is not decided here but on the host side, which a
 * compromised VMM in the slot's namespace cannot change. What the guest sends to the slot
 * namespace itself is refused with a reset or an ICMP error, so it fails at once.
 */
public final class SlotRuleset {
    /** The table's name inside the slot namespace. */
    public static final String TABLE = "basalt_slot";

    private SlotRuleset() {}

    public static String render(Slot slot) {
        String tap = GuestNetwork.TAP;
        String veth = GuestNetwork.SLOT_VETH;
        String guest = GuestNetwork.GUEST_IP;
        return """
                table ip %1$s {}
                delete table ip %1$s
                table ip %1$s {
                  chain prerouting {
                    type nat hook prerouting priority dstnat; policy accept;
                    iifname "%2$s" ip daddr %4$s meta l4proto { tcp, udp } th dport 53 dnat to %6$s
                    iifname "%3$s" ip daddr %7$s dnat to %5$s
                  }
                  chain postrouting {
                    type nat hook postrouting priority srcnat; policy accept;
                    oifname "%3$s" ip saddr %5$s snat to %7$s
                  }
                  chain forward {
                    type filter hook forward priority filter; policy drop;
                    iifname "%2$s" oifname "%3$s" ip saddr %5$s accept
                    iifname "%3$s" oifname "%2$s" ct state established,related accept
                    iifname "%3$s" oifname "%2$s" ct status dnat accept
                  }
                  chain input {
                    type filter hook input priority filter; policy drop;
                    iifname "lo" accept
                    ct state established,related accept
                    iifname "%2$s" meta l4proto tcp reject with tcp reset
                    iifname "%2$s" reject with icmp type admin-prohibited
                  }
                }
                """.formatted(TABLE, tap, veth, GuestNetwork.GATEWAY_IP, guest, slot.hostIp(), slot.slotIp());
    }
}
