package dev.basalt.net;

import dev.basalt.api.NetworkPolicy;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * A stand-in for basaltd in {@link RestartTest}: starts sandbox networking with the given
 * names, attaches two sandboxes, prints their slots and waits to be killed.
 * Arguments: prefix hostNamespace uplink slotNetwork dnsServer.
 */
public final class NetChild {
    private NetChild() {}

    public static void main(String[] args) throws Exception {
        NetConfig config = NetConfig.defaults().withPrefix(args[0]).withSlots(3, 1).withSlotNetwork(args[3])
                .withHostNamespace(args[1]).withUplink(args[2]).withDnsUpstreams(List.of(new InetSocketAddress(args[4], 53)));
        HostNetwork net = HostNetwork.start(config, List.of(), d -> { });
        Slot keep = net.attach("keep", RestartTest.KEEP_POLICY);
        Slot gone = net.attach("gone", NetworkPolicy.open());
        System.out.println("SLOTS " + keep.index() + " " + gone.index());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
