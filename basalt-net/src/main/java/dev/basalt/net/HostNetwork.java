package dev.basalt.net;

import dev.basalt.api.BasaltException;
import dev.basalt.api.NetworkPolicy;
import dev.basalt.api.NetworkStats;
import dev.basalt.api.PortForward;
import dev.basalt.net.dns.DnsServer;
import dev.basalt.net.dns.Upstream;
import dev.basalt.net.host.Commands;
import dev.basalt.net.host.NetNamespace;
import dev.basalt.net.proxy.Dialer;
import dev.basalt.net.proxy.PortForwards;
import dev.basalt.net.proxy.TransparentProxy;
import dev.basalt.net.rules.HostRuleset;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sandbox networking on one host, the one object the rest of Basalt talks to: the slot pool,
 * the host's nftables table, the DNS resolver, the transparent proxy, port forwards, counters.
 *
 * <p>{@link #start} once; then {@link #attach} a sandbox before its VMM starts (the VMM runs in
 * the returned slot's namespace), {@link #setPolicy} while it lives, {@link #detach} after its
 * VMM is gone; {@link #close} at the end. All methods are thread-safe.
 */
public final class HostNetwork implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HostNetwork.class);
    private static final Pattern COUNTER = Pattern.compile("counter (out|in|denied)_(\\d+) \\{\\s*packets (\\d+) bytes (\\d+)");

    private final NetConfig config;
    private final NetNamespace hostNs;
    private final SlotPool pool;
    private final DnsServer dns;
    private final TransparentProxy proxy;
    private final PortForwards ports;
    private final Map<String, Slot> slots = new ConcurrentHashMap<>();
    /** Per sandbox: refused DNS questions, refused connections (indexed by {@link Denial.Kind#ordinal}). */
    private final Map<String, LongAdder[]> denials;

    private HostNetwork(NetConfig config, NetNamespace hostNs, SlotPool pool, DnsServer dns, TransparentProxy proxy,
                        Map<String, LongAdder[]> denials) {
        this.config = config;
        this.hostNs = hostNs;
        this.pool = pool;
        this.dns = dns;
        this.proxy = proxy;
        this.ports = new PortForwards(hostNs);
        this.denials = denials;
    }

    /**
     * Starts networking: checks the host's tools, starts the resolver and the proxy, sweeps what an
     * earlier process left except the slots of {@code survivors} (sandboxes that outlived it, whose
     * traffic keeps flowing), and installs the host table. Fails with a clear message (naming the
     * Debian package) if {@code nft} or {@code ip} is missing.
     */
    public static HostNetwork start(NetConfig config, List<SlotPool.Leased> survivors, DenialListener listener) {
        Commands.requireTool("nft", "--version");
        Commands.requireTool("ip", "-V");
        NetNamespace ns = config.hostNamespace() == null ? NetNamespace.current() : NetNamespace.named(config.hostNamespace());
        if (!ns.exists()) {
            throw new BasaltException.InvalidArgument("the host network namespace " + config.hostNamespace() + " does not exist");
        }
        List<InetSocketAddress> upstreams = config.dnsUpstreams().isEmpty() ? resolvConf() : config.dnsUpstreams();
        if (upstreams.isEmpty()) {
            throw new BasaltException.Unavailable("no DNS server for sandboxes: /etc/resolv.conf names none; configure one");
        }
        HostAddresses hostAddresses = new HostAddresses(ns);
        EgressCheck check = new EgressCheck(config.slotNetwork(), hostAddresses::get);
        Upstream upstream = new Upstream(upstreams, ns);
        Dialer dialer = new Dialer(check, upstream, ns);
        Map<String, LongAdder[]> counts = new ConcurrentHashMap<>();
        DenialListener counting = d -> {
            counts.computeIfAbsent(d.sandboxId(), k -> new LongAdder[] {new LongAdder(), new LongAdder()})[d.kind().ordinal()].increment();
            listener.denied(d);
        };
        SlotPool[] poolRef = new SlotPool[1];
        Lease.Directory leases = ip -> {
            SlotPool.Leased l = poolRef[0] == null ? null : poolRef[0].leaseByAddress(ip);
            return l == null ? null : new Lease(l.sandboxId(), l.policy());
        };
        DnsServer dns = null;
        TransparentProxy proxy = null;
        try {
            dns = DnsServer.start(ns, upstream, check, leases, counting);
            proxy = TransparentProxy.start(ns, leases, dialer, counting);
            HostRuleset rules = new HostRuleset(config, new HostRuleset.Ports(dns.port(), proxy.httpPort(), proxy.tlsPort()));
            SlotPool pool = new SlotPool(config, ns, rules);
            poolRef[0] = pool;
            Map<Integer, SlotPool.Leased> byIndex = new HashMap<>();
            survivors.forEach(l -> byIndex.put(l.slot().index(), l));
            pool.start(byIndex);
            if (config.uplink() != null) {
                ns.sysctl("net/ipv4/conf/" + config.uplink() + "/forwarding", "1");
            }
            HostNetwork net = new HostNetwork(config, ns, pool, dns, proxy, counts);
            for (SlotPool.Leased l : survivors) {
                net.slots.put(l.sandboxId(), l.slot());
            }
            log.info("sandbox networking started: prefix {}, {} slots in {}, uplink {}, DNS port {}, proxy ports {}/{}, upstream {}",
                    config.prefix(), config.slots(), config.slotNetwork().text(), config.uplink(), dns.port(), proxy.httpPort(), proxy.tlsPort(), upstreams);
            return net;
        } catch (IOException e) {
            closeAll(dns, proxy, ns);
            throw new BasaltException.Internal("cannot start sandbox networking: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeAll(dns, proxy, ns);
            if (poolRef[0] != null) {
                poolRef[0].close();
            }
            throw e;
        }
    }

    private static void closeAll(DnsServer dns, TransparentProxy proxy, NetNamespace ns) {
        if (dns != null) {
            dns.close();
        }
        if (proxy != null) {
            proxy.close();
        }
        ns.close();
    }

    /** The interface of the host's IPv4 default route (the uplink basaltd uses unless told otherwise), or null. */
    public static String defaultUplink() {
        Matcher m = Pattern.compile("\\bdev (\\S+)").matcher(Commands.run(List.of("ip", "-4", "route", "show", "default"), null).stdout());
        return m.find() ? m.group(1) : null;
    }

    /** The {@code nameserver} lines of /etc/resolv.conf. */
    public static List<InetSocketAddress> resolvConf() {
        List<InetSocketAddress> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/etc/resolv.conf"))) {
                String[] w = line.strip().split("\\s+");
                if (w.length >= 2 && w[0].equals("nameserver") && EgressCheck.ipv4(w[1]) != null) {
                    out.add(new InetSocketAddress(w[1], 53));
                }
            }
        } catch (IOException e) {
            // no resolv.conf: the caller says so
        }
        return out;
    }

    /** The slot configuration (names, ranges). */
    public NetConfig config() {
        return config;
    }

    /**
     * Gives sandbox {@code sandboxId} a slot with {@code policy} (mode OPEN or ALLOW) in force; start
     * its VMM in the slot's namespace afterwards. Throws {@link BasaltException.ResourceExhausted}
     * when every slot is in use, {@link BasaltException.AlreadyExists} if it has one.
     */
    public Slot attach(String sandboxId, NetworkPolicy policy) {
        if (!policy.mode().hasNic()) {
            throw new BasaltException.InvalidArgument("network mode " + policy.mode().cliName() + " has no network interface and needs no slot");
        }
        if (slots.containsKey(sandboxId)) {
            throw new BasaltException.AlreadyExists("sandbox " + sandboxId + " has a network slot already");
        }
        Slot slot = pool.acquire(sandboxId, policy);
        if (slots.putIfAbsent(sandboxId, slot) != null) {
            pool.release(slot);
            throw new BasaltException.AlreadyExists("sandbox " + sandboxId + " has a network slot already");
        }
        denials.put(sandboxId, new LongAdder[] {new LongAdder(), new LongAdder()});
        return slot;
    }

    /** The sandbox's slot, or null if it has none. */
    public Slot slotOf(String sandboxId) {
        return slots.get(sandboxId);
    }

    /** Replaces a networked sandbox's policy at once (new connections and DNS questions follow it). */
    public void setPolicy(String sandboxId, NetworkPolicy policy) {
        Slot slot = requireSlot(sandboxId);
        if (!policy.mode().hasNic()) {
            throw new BasaltException.InvalidArgument("a running sandbox's network mode cannot change to " + policy.mode().cliName()
                    + ": only its allow and deny lists (and open ⇄ allow)");
        }
        pool.setPolicy(slot, policy);
        log.info("sandbox {}: network policy is now {} allow={} deny={}", sandboxId, policy.mode().cliName(), texts(policy.allow()), texts(policy.deny()));
    }

    private static List<String> texts(List<dev.basalt.api.EgressRule> rules) {
        return rules.stream().map(dev.basalt.api.EgressRule::text).toList();
    }

    /** The sandbox's current policy. */
    public NetworkPolicy policy(String sandboxId) {
        Slot slot = requireSlot(sandboxId);
        SlotPool.Leased l = pool.leaseByAddress(slot.slotAddress());
        return l == null ? NetworkPolicy.none() : l.policy();
    }

    /** Takes the sandbox's slot and port forwards back (after its VMM is gone). Idempotent. */
    public void detach(String sandboxId) {
        ports.removeAll(sandboxId);
        proxy.forget(sandboxId);
        Slot slot = slots.remove(sandboxId);
        denials.remove(sandboxId);
        if (slot != null) {
            pool.release(slot);
        }
    }

    /** Forwards {@code bind} (port 0: a free port) to {@code guestPort} of the sandbox. */
    public PortForward forwardPort(String sandboxId, int guestPort, InetSocketAddress bind) {
        Slot slot = requireSlot(sandboxId);
        return ports.add(sandboxId, slot.slotIp(), guestPort, bind);
    }

    /** Stops forwarding a guest port. */
    public void unforwardPort(String sandboxId, int guestPort) {
        ports.remove(sandboxId, guestPort);
    }

    /** The sandbox's port forwards. */
    public List<PortForward> portForwards(String sandboxId) {
        return ports.list(sandboxId);
    }

    /** Traffic and refusals of one sandbox since it got its slot. */
    public NetworkStats stats(String sandboxId) {
        return allStats().getOrDefault(sandboxId, NetworkStats.ZERO);
    }

    /** Traffic and refusals of every networked sandbox (one read of the host table's counters). */
    public Map<String, NetworkStats> allStats() {
        Map<Integer, long[]> byIndex = new HashMap<>();
        String out = hostNs.nft("list counters table inet " + config.prefix());
        Matcher m = COUNTER.matcher(out);
        while (m.find()) {
            long[] v = byIndex.computeIfAbsent(Integer.parseInt(m.group(2)), k -> new long[3]);
            switch (m.group(1)) {
                case "in" -> v[0] = Long.parseLong(m.group(4));
                case "out" -> v[1] = Long.parseLong(m.group(4));
                default -> v[2] = Long.parseLong(m.group(3));
            }
        }
        Map<String, NetworkStats> stats = new HashMap<>();
        slots.forEach((id, slot) -> {
            long[] v = byIndex.getOrDefault(slot.index(), new long[3]);
            LongAdder[] d = denials.get(id);
            stats.put(id, new NetworkStats(v[0], v[1], v[2], d == null ? 0 : d[0].sum(), d == null ? 0 : d[1].sum()));
        });
        return stats;
    }

    private Slot requireSlot(String sandboxId) {
        Slot slot = slots.get(sandboxId);
        if (slot == null) {
            throw new BasaltException.WrongState("sandbox " + sandboxId + " has no network (it was created with --net none or proxy, or it is stopped)");
        }
        return slot;
    }

    /**
     * Stops the resolver, the proxy and the port forwards. With {@code keepAttached} (a daemon
     * detaching from sandboxes that keep running) their slots and the host table stay for the next
     * process; otherwise every slot, link and table of this prefix is deleted.
     */
    public void close(boolean keepAttached) {
        ports.close();
        dns.close();
        proxy.close();
        pool.close(keepAttached);
        hostNs.close();
    }

    @Override
    public void close() {
        close(false);
    }
}
