package dev.basalt.net;

import dev.basalt.api.BasaltException;
import dev.basalt.api.NetworkPolicy;
import dev.basalt.net.dns.Upstream;
import dev.basalt.net.host.NetNamespace;
import dev.basalt.net.proxy.Dialer;
import dev.basalt.net.proxy.GuestProxy;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Supplier;

/**
 * What {@code --net proxy} needs on the host: no slot, no nftables, no root — only a resolver
 * ({@link Upstream}), the policy checks and a {@link Dialer} in the host namespace, behind a
 * {@link GuestProxy}. Start it once; {@link #serve} each tunnelled connection. Thread-safe.
 */
public final class ProxyNetwork implements AutoCloseable {
    private final NetNamespace ns;
    private final GuestProxy proxy;

    private ProxyNetwork(NetNamespace ns, GuestProxy proxy) {
        this.ns = ns;
        this.proxy = proxy;
    }

    /** Resolver and dialer of {@code config}'s host namespace and DNS upstreams (those of /etc/resolv.conf if none). */
    public static ProxyNetwork start(NetConfig config, DenialListener denials) {
        NetNamespace ns = config.hostNamespace() == null ? NetNamespace.current() : NetNamespace.named(config.hostNamespace());
        List<InetSocketAddress> upstreams = config.dnsUpstreams().isEmpty() ? HostNetwork.resolvConf() : config.dnsUpstreams();
        if (upstreams.isEmpty()) {
            ns.close();
            throw new BasaltException.Unavailable("no DNS server for proxied sandboxes: /etc/resolv.conf names none; configure one");
        }
        HostAddresses host = new HostAddresses(ns);
        EgressCheck check = new EgressCheck(config.slotNetwork(), host::get);
        return new ProxyNetwork(ns, new GuestProxy(new Dialer(check, new Upstream(upstreams, ns), ns), denials));
    }

    /** Serves one tunnelled connection of {@code sandboxId} on this thread (see {@link GuestProxy#serve}). */
    public void serve(String sandboxId, Supplier<NetworkPolicy> policy, InputStream in, OutputStream out, Runnable halfClose,
                      Runnable close) {
        proxy.serve(sandboxId, policy, in, out, halfClose, close);
    }

    @Override
    public void close() {
        ns.close();
    }
}
