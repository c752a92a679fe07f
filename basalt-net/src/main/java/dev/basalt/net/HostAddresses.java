package dev.basalt.net;

import dev.basalt.net.host.NetNamespace;
import java.io.IOException;
import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The host namespace's own IPv4 addresses, read at most every 5 s (the proxies refuse them). Thread-safe. */
public final class HostAddresses {
    private static final Logger log = LoggerFactory.getLogger(HostAddresses.class);
    private final NetNamespace ns;
    private volatile Set<Integer> addresses = Set.of();
    private volatile long readAt;

    public HostAddresses(NetNamespace ns) {
        this.ns = ns;
    }

    /** The addresses, re-read if the last read is older than 5 s. */
    public Set<Integer> get() {
        long now = System.nanoTime();
        if (readAt == 0 || now - readAt > 5_000_000_000L) {
            try {
                // read on the namespace's own thread: the JDK lists the interfaces of the caller's namespace
                addresses = ns.inside(() -> {
                    Set<Integer> s = new HashSet<>();
                    for (var nif : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
                        for (var a : java.util.Collections.list(nif.getInetAddresses())) {
                            if (a instanceof java.net.Inet4Address v4) {
                                s.add(EgressCheck.ipv4(v4.getAddress()));
                            }
                        }
                    }
                    return Set.copyOf(s);
                });
                readAt = now;
            } catch (IOException e) {
                log.warn("cannot list the host's addresses: {}", e.toString());
            }
        }
        return addresses;
    }
}
