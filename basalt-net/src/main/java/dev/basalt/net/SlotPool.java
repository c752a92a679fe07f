package dev.basalt.net;

import dev.basalt.api.BasaltException;
import dev.basalt.api.NetworkPolicy;
import dev.basalt.net.host.Commands;
import dev.basalt.net.host.NetNamespace;
import dev.basalt.net.rules.HostRuleset;
import dev.basalt.net.rules.SlotRuleset;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pool of network slots. A slot is made ahead (namespace, veth pair, TAP, the slot's nftables
 * table, its objects in the host table) so that taking one costs only its policy; a returned slot
 * is destroyed and made anew in the background, so the next sandbox finds nothing of the last
 * one (conntrack entries, neighbours, queued frames). Everything is named by
 * {@link NetConfig#slotName}, which is how {@link #start} sweeps what a previous process left.
 *
 * <p>Thread-safe. {@link #start} first; then {@link #acquire}, {@link #setPolicy} and
 * {@link #release} from any thread; {@link #close} last.
 */
public final class SlotPool implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SlotPool.class);
    private static final Path NETNS_DIR = Path.of("/run/netns");

    private final NetConfig config;
    private final NetNamespace host;
    private final HostRuleset rules;
    private final Object lock = new Object();
    /** Made and unused, ready to hand out. */
    private final Deque<Slot> free = new ArrayDeque<>();
    /** Slot index → its lease, for slots handed out; changed under {@link #lock}, read without it (DNS, proxy). */
    private final Map<Integer, Leased> leased = new java.util.concurrent.ConcurrentHashMap<>();
    /** Indexes whose slot exists or is being made (free, leased or being remade). */
    private final TreeSet<Integer> taken = new TreeSet<>();
    private Thread maker;
    /** Slots the maker is making or remaking right now. */
    private int making;
    private boolean closed;

    /** A handed-out slot with the sandbox that holds it and its current policy. */
    public record Leased(Slot slot, String sandboxId, NetworkPolicy policy) {}

    public SlotPool(NetConfig config, NetNamespace host, HostRuleset rules) {
        this.config = config;
        this.host = host;
        this.rules = rules;
    }

    /**
     * Sweeps every namespace, veth and table named by this pool's prefix except the slots in
     * {@code survivors} (slot index → sandbox and policy: sandboxes that outlived a previous
     * process), replaces the host table, and starts making spare slots. Allowed once.
     */
    public void start(Map<Integer, Leased> survivors) {
        Commands.requireTool("nft", "--version");
        for (Leased l : survivors.values()) {
            if (!Files.exists(NETNS_DIR.resolve(l.slot().namespace()))) {
                throw new BasaltException.Internal("the network slot " + l.slot().namespace() + " of sandbox " + l.sandboxId() + " is gone");
            }
        }
        sweep(survivors.keySet(), "left by an earlier process");
        List<Slot> kept = survivors.values().stream().map(Leased::slot).toList();
        List<NetworkPolicy> policies = survivors.values().stream().map(Leased::policy).toList();
        host.nft(rules.renderTable(kept, policies));
        hostObjects.addAll(survivors.keySet());
        synchronized (lock) {
            leased.putAll(survivors);
            taken.addAll(survivors.keySet());
            maker = Thread.ofVirtual().name("netslot-maker").start(this::makeSpares);
        }
    }

    /**
     * Hands a free slot to {@code sandboxId} with {@code policy} applied before it returns (a slot
     * refuses all traffic until then). Waits only if no spare is ready; throws
     * {@link BasaltException.ResourceExhausted} when every slot is in use.
     */
    public Slot acquire(String sandboxId, NetworkPolicy policy) {
        Slot slot;
        boolean make = false;
        synchronized (lock) {
            ensureOpen();
            slot = free.pollFirst();
            while (slot == null && nextIndex() == null && making > 0) {   // the last slots are being made: take one of them
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new BasaltException.Unavailable("interrupted while waiting for a network slot", e);
                }
                ensureOpen();
                slot = free.pollFirst();
            }
            if (slot == null) {
                Integer index = nextIndex();
                if (index == null) {
                    throw new BasaltException.ResourceExhausted("all " + config.slots() + " network slots are in use: remove a networked sandbox, or start basaltd with more slots");
                }
                taken.add(index);
                slot = slotAt(index);
                make = true;
            }
            leased.put(slot.index(), new Leased(slot, sandboxId, policy));
            lock.notifyAll();
        }
        try {
            if (make) {
                makeSlot(slot);
                host.nft(rules.resetCounters(slot));
            }
            // a slot made just now or remade after its last sandbox has zeroed counters already
            host.nft(rules.policy(slot, policy));
            return slot;
        } catch (RuntimeException e) {
            release(slot);
            throw e;
        }
    }

    /** Replaces the policy of a handed-out slot, atomically. */
    public void setPolicy(Slot slot, NetworkPolicy policy) {
        synchronized (lock) {
            Leased l = leased.get(slot.index());
            if (l == null) {
                throw new BasaltException.WrongState("network slot " + slot.namespace() + " is not in use");
            }
            host.nft(rules.policy(slot, policy));
            leased.put(slot.index(), new Leased(slot, l.sandboxId(), policy));
        }
    }

    /** The lease of the slot whose slot address is {@code ip}, or null. */
    public Leased leaseByAddress(int ip) {
        int index = config.slotIndexOf(ip);
        return index < 0 ? null : leased.get(index);
    }

    /** Every handed-out slot. */
    public List<Leased> leases() {
        return List.copyOf(leased.values());
    }

    /**
     * Takes a slot back: it refuses all traffic at once and is destroyed and made anew in the
     * background. Call it after the sandbox's VMM is gone. Idempotent.
     */
    public void release(Slot slot) {
        synchronized (lock) {
            if (leased.remove(slot.index()) == null) {
                return;
            }
            try {
                host.nft(rules.policy(slot, null));
            } catch (RuntimeException e) {
                log.warn("could not clear the policy of network slot {}: {}", slot.namespace(), e.getMessage());
            }
            recycling.add(slot);
            lock.notifyAll();
        }
    }

    private final Deque<Slot> recycling = new ArrayDeque<>();

    /** Number of slots made and free right now. */
    public int freeSlots() {
        synchronized (lock) {
            return free.size();
        }
    }

    private void makeSpares() {
        while (true) {
            Slot toRemake;
            Slot toMake = null;
            synchronized (lock) {
                while (!closed && recycling.isEmpty() && (free.size() >= config.spareSlots() || nextIndex() == null)) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) {
                    return;
                }
                toRemake = recycling.pollFirst();
                if (toRemake == null) {
                    Integer index = nextIndex();
                    taken.add(index);
                    toMake = slotAt(index);
                }
                making++;
            }
            Slot slot = toRemake != null ? toRemake : toMake;
            try {
                if (toRemake != null) {
                    destroySlot(slot);
                }
                makeSlot(slot);
                host.nft(rules.resetCounters(slot));
                synchronized (lock) {
                    making--;
                    if (closed) {
                        destroySlot(slot);
                        return;
                    }
                    free.addLast(slot);
                    lock.notifyAll();
                }
            } catch (RuntimeException e) {
                log.error("could not make network slot {} (retrying in 1 s): {}", slot.namespace(), e.getMessage());
                destroyQuietly(slot);
                synchronized (lock) {
                    making--;
                    taken.remove(slot.index());
                    lock.notifyAll();
                }
                try {
                    Thread.sleep(1000);   // a broken host: do not spin
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    private Integer nextIndex() {
        for (int i = 0; i < config.slots(); i++) {
            if (!taken.contains(i)) {
                return i;
            }
        }
        return null;
    }

    private Slot slotAt(int index) {
        return new Slot(index, config.slotName(index), config.hostAddress(index), config.slotAddress(index));
    }

    /** Makes slot {@code slot}: namespace, veth pair, TAP, sysctls, both tables. */
    private void makeSlot(Slot slot) {
        String ns = slot.namespace();
        Commands.run(List.of("ip", "netns", "add", ns), null);
        try (NetNamespace inside = NetNamespace.named(ns)) {
            host.ipBatch(List.of(
                    "link add " + slot.hostVeth() + " type veth peer name " + GuestNetwork.SLOT_VETH + " netns " + ns,
                    "addr add " + slot.hostIp() + "/31 dev " + slot.hostVeth(),
                    "link set " + slot.hostVeth() + " up"));
            host.sysctl("net/ipv4/conf/" + slot.hostVeth() + "/forwarding", "1");
            host.sysctl("net/ipv6/conf/" + slot.hostVeth() + "/disable_ipv6", "1");
            inside.sysctl("net/ipv6/conf/all/disable_ipv6", "1");
            inside.sysctl("net/ipv6/conf/default/disable_ipv6", "1");
            inside.sysctl("net/ipv4/ip_forward", "1");
            inside.ipBatch(List.of(
                    "link set lo up",
                    "addr add " + slot.slotIp() + "/31 dev " + GuestNetwork.SLOT_VETH,
                    "link set " + GuestNetwork.SLOT_VETH + " up",
                    "route add default via " + slot.hostIp(),
                    "tuntap add dev " + GuestNetwork.TAP + " mode tap",
                    "link set " + GuestNetwork.TAP + " address " + GuestNetwork.TAP_MAC,
                    "addr add " + GuestNetwork.GATEWAY_IP + "/" + GuestNetwork.PREFIX_LENGTH + " dev " + GuestNetwork.TAP,
                    "link set " + GuestNetwork.TAP + " up",
                    "neigh replace " + GuestNetwork.GUEST_IP + " lladdr " + GuestNetwork.GUEST_MAC + " dev " + GuestNetwork.TAP + " nud permanent"));
            inside.nft(SlotRuleset.render(slot));
            if (!hostObjectsExist(slot)) {
                host.nft(rules.addSlot(slot));
            }
        } catch (IOException e) {
            throw new BasaltException.Internal("could not make network slot " + ns + ": " + e.getMessage(), e);
        }
    }

    private final java.util.Set<Integer> hostObjects = new java.util.concurrent.ConcurrentSkipListSet<>();

    private boolean hostObjectsExist(Slot slot) {
        return !hostObjects.add(slot.index());
    }

    /**
     * Deletes slot {@code slot}'s host veth (which takes its peer along at once) and namespace (whose
     * TAP the kernel removes in the background); the host table's objects stay for its next life.
     */
    private void destroySlot(Slot slot) {
        deleteLink(slot.hostVeth());
        if (Files.exists(NETNS_DIR.resolve(slot.namespace()))) {
            Commands.run(List.of("ip", "netns", "delete", slot.namespace()), null);
        }
    }

    private void deleteLink(String name) {
        try {
            Commands.run(host.ip("link", "delete", name), null);
        } catch (BasaltException.Internal e) {
            if (!e.getMessage().contains("Cannot find device")) {
                throw e;
            }
        }
    }

    private void destroyQuietly(Slot slot) {
        try {
            destroySlot(slot);
        } catch (RuntimeException e) {
            log.warn("could not delete network slot {}: {}", slot.namespace(), e.getMessage());
        }
    }

    private List<String> hostLinks() {
        String out = Commands.run(host.ip("-o", "link", "show"), null).stdout();
        List<String> names = new ArrayList<>();
        Matcher m = Pattern.compile("^\\d+: ([^:@ ]+)", Pattern.MULTILINE).matcher(out);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    /** Deletes this prefix's namespaces and host veths except those of slots {@code keep}. */
    private void sweep(java.util.Set<Integer> keep, String why) {
        Pattern mine = Pattern.compile(Pattern.quote(config.prefix()) + "-s(\\d+)");
        int swept = 0;
        for (String link : hostLinks()) {
            Matcher m = mine.matcher(link);
            if (m.matches() && !keep.contains(Integer.parseInt(m.group(1)))) {
                deleteLink(link);
                swept++;
            }
        }
        if (Files.isDirectory(NETNS_DIR)) {
            try (Stream<Path> entries = Files.list(NETNS_DIR)) {
                for (Path p : entries.toList()) {
                    Matcher m = mine.matcher(p.getFileName().toString());
                    if (m.matches() && !keep.contains(Integer.parseInt(m.group(1)))) {
                        Commands.run(List.of("ip", "netns", "delete", p.getFileName().toString()), null);
                        swept++;
                    }
                }
            } catch (IOException e) {
                throw new BasaltException.Internal("cannot list " + NETNS_DIR + ": " + e.getMessage(), e);
            }
        }
        if (swept > 0) {
            log.info("deleted {} network namespaces and links {} (prefix {})", swept, why, config.prefix());
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new BasaltException.Unavailable("the network slot pool is closed");
        }
    }

    /**
     * Stops making slots. With {@code keepLeased} (a daemon that detaches from running sandboxes)
     * the handed-out slots and the host table stay as they are for the next process; otherwise
     * everything of this pool is deleted.
     */
    public void close(boolean keepLeased) {
        Thread m;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            m = maker;
            lock.notifyAll();
        }
        if (m != null) {
            try {   // it finishes the slot it is making (tens of ms) and then sees the pool closed
                m.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (keepLeased) {
            java.util.Set<Integer> keep;
            synchronized (lock) {
                keep = new java.util.HashSet<>(leased.keySet());
            }
            sweep(keep, "of free slots");
            return;
        }
        sweep(java.util.Set.of(), "at close");
        try {
            host.nft("table " + "inet " + config.prefix() + " {}\ndelete table inet " + config.prefix() + "\n");
        } catch (RuntimeException e) {
            log.warn("could not delete the nftables table inet {}: {}", config.prefix(), e.getMessage());
        }
    }

    @Override
    public void close() {
        close(false);
    }
}
