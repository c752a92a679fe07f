package dev.basalt.net;

/**
 * The network configuration every networked guest has, identical in every clone of a template:
 * uniqueness lives in the host-side slot, never in the guest. The guest is {@value #GUEST_IP}/30
 * with MAC {@value #GUEST_MAC} on {@code eth0}; its gateway and DNS server is {@value #GATEWAY_IP},
 * the slot's TAP device.
 */
public final class GuestNetwork {
    public static final String GUEST_IP = "169.254.0.21";
    public static final String GATEWAY_IP = "169.254.0.22";
    public static final int PREFIX_LENGTH = 30;
    public static final String GUEST_MAC = "02:fc:00:00:00:05";
    public static final String TAP_MAC = "02:fc:00:00:00:01";
    /** The TAP device in every slot's namespace; QEMU opens it by this name. */
    public static final String TAP = "tap0";
    /** The slot's end of its veth pair, inside the slot's namespace. */
    public static final String SLOT_VETH = "veth0";

    private GuestNetwork() {}

    /** Kernel {@code ip=} autoconfiguration argument for the guest (needs CONFIG_IP_PNP). */
    public static String kernelIpArgument() {
        return "ip=" + GUEST_IP + "::" + GATEWAY_IP + ":255.255.255.252::eth0:off";
    }
}
