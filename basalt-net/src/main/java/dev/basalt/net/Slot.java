package dev.basalt.net;

import dev.basalt.api.EgressRule;

/**
 * One pre-made network slot: a namespace holding the guest's TAP ({@link GuestNetwork#TAP}) and one
 * end of a veth pair whose other end is in the host namespace. A VMM for this slot runs in
 * {@link #namespace()} and opens the TAP there.
 *
 * @param index       the slot number, unique within a {@link SlotPool}
 * @param namespace   the network namespace's name under /run/netns (also the host veth's name)
 * @param hostAddress the host end of the slot's /31
 * @param slotAddress the slot end: the sandbox's unique address as the host sees it
 */
public record Slot(int index, String namespace, int hostAddress, int slotAddress) {
    /** The host-side veth: same name as the namespace. */
    public String hostVeth() {
        return namespace;
    }

    /** The slot address in dotted form. */
    public String slotIp() {
        return EgressRule.Cidr.format(slotAddress);
    }

    /** The host address in dotted form. */
    public String hostIp() {
        return EgressRule.Cidr.format(hostAddress);
    }
}
