package dev.basalt.net.proxy;

import dev.basalt.api.EgressRule;
import dev.basalt.api.NetworkPolicy;
import dev.basalt.net.Decision;
import dev.basalt.net.EgressCheck;
import dev.basalt.net.dns.Upstream;
import dev.basalt.net.host.NetNamespace;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

/**
 * Connects to a host on a sandbox's behalf, by name: the name is checked against the policy,
 * resolved by the host ({@link Upstream}, never by the guest), and each resolved address checked
 * again (a name that resolves to a private or host address is refused: no DNS rebinding), then
 * the first allowed address that answers is used. The socket is made in the host namespace.
 * Thread-safe; used by the transparent proxy and by the NIC-less proxy mode.
 */
public final class Dialer {
    static final int CONNECT_TIMEOUT_MS = 10_000;
    private final EgressCheck check;
    private final Upstream upstream;
    private final NetNamespace ns;

    /** The policy refused the destination; the message is the reason. */
    public static final class Refused extends Exception {
        public Refused(String reason) {
            super(reason, null, false, false);
        }
    }

    public Dialer(EgressCheck check, Upstream upstream, NetNamespace ns) {
        this.check = check;
        this.upstream = upstream;
        this.ns = ns;
    }

    /** A connected socket to {@code host} (normalized name or IPv4 literal) on {@code port}. */
    public SocketChannel dial(NetworkPolicy policy, String host, int port) throws Refused, IOException {
        Decision d = check.name(policy, host);
        if (!d.allowed()) {
            throw new Refused(d.reason());
        }
        Integer literal = EgressCheck.ipv4(host);
        List<Integer> addresses = literal != null ? List.of(literal) : upstream.resolveA(host);
        if (addresses.isEmpty()) {
            throw new Refused(host + " has no IPv4 address");
        }
        List<Integer> allowed = new ArrayList<>();
        String reason = null;
        for (int ip : addresses) {
            Decision a = check.address(policy, ip, literal == null);
            if (a.allowed()) {
                allowed.add(ip);
            } else if (reason == null) {
                reason = a.reason();
            }
        }
        if (allowed.isEmpty()) {
            throw new Refused(reason);
        }
        IOException last = null;
        for (int ip : allowed) {
            SocketChannel ch = ns.openTcp();
            try {
                InetAddress a = InetAddress.getByName(EgressRule.Cidr.format(ip));
                ch.socket().connect(new InetSocketAddress(a, port), CONNECT_TIMEOUT_MS);
                ch.socket().setTcpNoDelay(true);
                return ch;
            } catch (IOException e) {
                ch.close();
                last = e;
            }
        }
        throw new IOException("cannot connect to " + host + ":" + port + ": " + last.getMessage(), last);
    }
}
