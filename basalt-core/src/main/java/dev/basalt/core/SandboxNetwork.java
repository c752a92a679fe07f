package dev.basalt.core;

import dev.basalt.api.BasaltException;
import dev.basalt.api.NetworkMode;
import dev.basalt.api.NetworkPolicy;
import dev.basalt.api.NetworkStats;
import dev.basalt.api.PortForward;
import dev.basalt.net.DenialListener;
import dev.basalt.net.GuestNetwork;
import dev.basalt.net.HostNetwork;
import dev.basalt.net.NetConfig;
import dev.basalt.net.Slot;
import dev.basalt.net.SlotPool;
import dev.basalt.vmm.Boot;
import dev.basalt.vmm.Device;
import dev.basalt.vmm.VmConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The manager's side of sandbox networking: starts {@link HostNetwork} at the first networked VM
 * (so that a host without nftables still runs un-networked sandboxes), gives each networked VM a
 * slot whose namespace its VMM is launched in, and takes the slot back when the VM is gone. Also
 * the one place that turns a VM config into a networked one ({@link #withNic}). Thread-safe.
 */
final class SandboxNetwork implements AutoCloseable {
    /** A VM whose guest may reach nothing (a template's, a restored snapshot's until it is given a policy). */
    static final NetworkPolicy NOTHING = new NetworkPolicy(NetworkMode.ALLOW, List.of(), List.of());
    private static final String DEVICE_ID = "net0";

    private final NetConfig configured;
    private final List<DenialListener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final DenialListener denials = d -> listeners.forEach(l -> l.denied(d));
    private volatile HostNetwork net;
    private volatile dev.basalt.net.ProxyNetwork proxy;
    /** The in-guest HTTP proxy endpoint of {@code --net proxy} sandboxes. */
    static final int PROXY_PORT = 3128;
    /** Tunnels kept waiting per proxied sandbox: connections it may open at once before one waits. */
    private static final int WAITING_TUNNELS = 8;
    private List<SlotPool.Leased> survivors = List.of();

    SandboxNetwork(NetConfig configured) {
        this.configured = configured;
    }

    /** Adds a listener of refused DNS questions and connections (metrics). */
    void addDenialListener(DenialListener listener) {
        listeners.add(listener);
    }

    /** The config of a VM with the guest's NIC: the device and the kernel parameter the agent configures it from. */
    static VmConfig withNic(VmConfig config) {
        if (hasNic(config)) {
            return config;
        }
        List<Device> devices = new ArrayList<>(config.devices());
        devices.add(new Device.Network(DEVICE_ID, GuestNetwork.GUEST_MAC, GuestNetwork.TAP));
        Boot b = config.boot();
        String ip = "basalt.ip=" + GuestNetwork.GUEST_IP + "/" + GuestNetwork.PREFIX_LENGTH + "," + GuestNetwork.GATEWAY_IP;
        return new VmConfig(config.name(), config.machine(), new Boot(b.kernel(), b.initrd(), (b.cmdlineExtra() + " " + ip).strip(), b.acpi()),
                devices);
    }

    static boolean hasNic(VmConfig config) {
        return !config.devices(Device.Network.class).isEmpty();
    }

    /** Slots of sandboxes that outlived the previous daemon: kept when networking starts. */
    synchronized void survivors(List<SlotPool.Leased> leases) {
        if (!leases.isEmpty()) {
            survivors = List.copyOf(leases);
            started();   // their DNS and proxy must serve again now, not at the next networked create
        }
    }

    private synchronized HostNetwork started() {
        if (net == null) {
            NetConfig c = configured != null ? configured : NetConfig.defaults();
            try {
                if (c.uplink() == null) {
                    c = c.withUplink(HostNetwork.defaultUplink());
                }
                net = HostNetwork.start(c, survivors, denials);
            } catch (BasaltException e) {
                // a host problem, not the caller's: say that networking is what failed, and what it needs
                throw new BasaltException.Unavailable("sandbox networking cannot start on this host (it needs root, iproute2 "
                        + "and nftables; --net none and --net proxy need none of them): " + e.getMessage(), e);
            }
        }
        return net;
    }

    /** The environment that points a proxied sandbox's programs at its in-guest proxy endpoint. */
    static java.util.Map<String, String> proxyEnv() {
        String url = "http://127.0.0.1:" + PROXY_PORT;
        return java.util.Map.of("HTTP_PROXY", url, "HTTPS_PROXY", url, "http_proxy", url, "https_proxy", url,
                "NO_PROXY", "localhost,127.0.0.1", "no_proxy", "localhost,127.0.0.1");
    }

    private synchronized dev.basalt.net.ProxyNetwork proxyNetwork() {
        if (proxy == null) {
            proxy = dev.basalt.net.ProxyNetwork.start(configured != null ? configured : NetConfig.defaults(), denials);
        }
        return proxy;
    }

    /**
     * Serves a {@code --net proxy} sandbox: keeps {@value #WAITING_TUNNELS} tunnels waiting on its
     * in-guest endpoint, each connection decided by {@code policy} (read at each connection), until
     * its agent channel closes.
     */
    void serveProxy(String id, dev.basalt.vmm.agent.AgentClient agent, java.util.function.Supplier<NetworkPolicy> policy) {
        dev.basalt.net.ProxyNetwork p = proxyNetwork();
        for (int i = 0; i < WAITING_TUNNELS; i++) {
            // sent now, so the guest's endpoint listens before anything the caller does next
            dev.basalt.vmm.agent.Tunnel first = agent.acceptTunnel(PROXY_PORT);
            Thread.ofVirtual().name("proxy-tunnels-" + id).start(() -> {
                dev.basalt.vmm.agent.Tunnel t = first;
                while (true) {
                    try {
                        t.awaitOpened(java.time.Duration.ofDays(365));
                    } catch (RuntimeException e) {
                        t.close();
                        return;   // the channel closed: the sandbox is stopping or gone
                    }
                    java.io.OutputStream toGuest = t.output();
                    p.serve(id, policy, t.input(), toGuest, () -> {
                        try {
                            toGuest.close();
                        } catch (java.io.IOException e) {
                            // the tunnel is gone already
                        }
                    }, t::close);
                    try {
                        t = agent.acceptTunnel(PROXY_PORT);
                    } catch (RuntimeException e) {
                        return;
                    }
                }
            });
        }
    }

    /**
     * Gives VM {@code id} a slot with {@code policy}; returns the namespace its VMM must start in.
     * {@link BasaltException.ResourceExhausted} when every slot is taken.
     */
    Path attach(String id, NetworkPolicy policy) {
        Slot slot = started().attach(id, policy);
        return Path.of("/run/netns", slot.namespace());
    }

    /** Takes back VM {@code id}'s slot and port forwards (idempotent; nothing if it had none). */
    void detach(String id) {
        HostNetwork n = net;
        if (n != null) {
            n.detach(id);
        }
    }

    /** The slot whose namespace is {@code ns} (as recorded for a sandbox), or null if this host's slots are named otherwise. */
    Slot slotOf(Path ns) {
        NetConfig c = configured != null ? configured : NetConfig.defaults();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(c.prefix()) + "-s(\\d+)")
                .matcher(ns.getFileName().toString());
        if (!m.matches() || Integer.parseInt(m.group(1)) >= c.slots()) {
            return null;
        }
        int index = Integer.parseInt(m.group(1));
        return new Slot(index, c.slotName(index), c.hostAddress(index), c.slotAddress(index));
    }

    NetworkPolicy policy(String id) {
        return require(id).policy(id);
    }

    void setPolicy(String id, NetworkPolicy policy) {
        require(id).setPolicy(id, policy);
    }

    PortForward forwardPort(String id, int guestPort, int hostPort) {
        return require(id).forwardPort(id, guestPort, new InetSocketAddress("127.0.0.1", hostPort));
    }

    void unforwardPort(String id, int guestPort) {
        HostNetwork n = net;
        if (n != null) {
            n.unforwardPort(id, guestPort);
        }
    }

    List<PortForward> portForwards(String id) {
        HostNetwork n = net;
        return n == null ? List.of() : n.portForwards(id);
    }

    NetworkStats stats(String id) {
        HostNetwork n = net;
        return n == null || n.slotOf(id) == null ? NetworkStats.ZERO : n.stats(id);
    }

    private HostNetwork require(String id) {
        HostNetwork n = net;
        if (n == null || n.slotOf(id) == null) {
            throw new BasaltException.WrongState("sandbox " + id + " has no network (create it with --net open or --net allow)");
        }
        return n;
    }

    /** Stops networking; {@code keepAttached}: a daemon detaching from VMs that keep running. */
    void close(boolean keepAttached) {
        HostNetwork n = net;
        if (n != null) {
            n.close(keepAttached);
        }
        dev.basalt.net.ProxyNetwork p = proxy;
        if (p != null) {
            p.close();
        }
    }

    @Override
    public void close() {
        close(false);
    }
}
