package dev.basalt.core;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.NetworkMode;
import dev.basalt.api.NetworkPolicy;
import dev.basalt.api.PortForward;
import dev.basalt.net.Slot;
import dev.basalt.net.SlotPool;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The manager's network operations on live sandboxes (policy changes, port forwards, proxy mode's
 * tunnels and environment) and the taking over of networked sandboxes after a daemon restart; the
 * slots themselves are {@link SandboxNetwork}'s. Each operation's precondition is in its javadoc.
 */
final class NetworkOps {
    private static final Logger log = LoggerFactory.getLogger(NetworkOps.class);
    private final SandboxNetwork network;
    private final SandboxStore store;

    /** @param store the daemon's record, or null for an embedded manager */
    NetworkOps(SandboxNetwork network, SandboxStore store) {
        this.network = network;
        this.store = store;
    }

    /** A sandbox became READY: a proxied one gets its tunnels before its create returns (so its first command finds them). */
    void ready(ManagedSandbox sandbox) {
        if (sandbox.spec().network().mode() == NetworkMode.PROXY) {
            startProxy(sandbox);
        }
    }

    /**
     * A paused sandbox runs again (in a new slot, if it has a NIC): its port forwards open again on
     * their host ports, a proxied one gets its tunnels again. A forward whose host port was taken
     * meanwhile is dropped with a warning. Its record is written by the caller (the event).
     */
    void resumed(ManagedSandbox sandbox) {
        if (sandbox.spec().network().mode() == NetworkMode.PROXY) {
            startProxy(sandbox);
        }
        if (sandbox.networkNamespace() == null || sandbox.portForwards().isEmpty()) {
            return;
        }
        for (PortForward f : sandbox.portForwards()) {
            try {
                network.forwardPort(sandbox.id(), f.guestPort(), f.hostPort());
            } catch (BasaltException e) {
                log.warn("sandbox {}: port {} cannot be forwarded from {} again after its resume: {}", sandbox.id(), f.guestPort(),
                        f.hostPort(), e.getMessage());
            }
        }
        sandbox.portForwards(network.portForwards(sandbox.id()));
    }

    /** The policy a sandbox's slot applies: its own, or nothing reachable for a NIC its policy does not ask for. */
    NetworkPolicy nicPolicy(dev.basalt.api.SandboxSpec spec) {
        return spec.network().mode().hasNic() ? spec.network() : SandboxNetwork.NOTHING;
    }

    /** A {@code --net proxy} sandbox's tunnels: served until its agent channel closes. */
    private void startProxy(ManagedSandbox sandbox) {
        try {
            dev.basalt.vmm.agent.AgentClient agent = sandbox.acquire("serve the proxy of", false);
            sandbox.release(false);
            network.serveProxy(sandbox.id(), agent, () -> sandbox.spec().network());
        } catch (RuntimeException e) {
            log.warn("sandbox {}: its proxy could not start: {}", sandbox.id(), e.getMessage());
        }
    }

    /** In a {@code --net proxy} sandbox, commands find the in-guest proxy in their environment (theirs wins). */
    ExecRequest withProxyEnv(ManagedSandbox sandbox, ExecRequest request) {
        if (sandbox == null || sandbox.spec().network().mode() != NetworkMode.PROXY) {
            return request;
        }
        Map<String, String> env = new HashMap<>(SandboxNetwork.proxyEnv());
        env.putAll(request.env());
        return request.withEnv(env);
    }

    /**
     * Replaces a sandbox's egress policy. Only while it is not stopped or failed; its lists may
     * change, and {@code open ⇄ allow}, but not whether it has a NIC or uses the in-guest proxy.
     */
    void setPolicy(ManagedSandbox sandbox, NetworkPolicy policy) {
        String id = sandbox.id();
        if (sandbox.state().isTerminal()) {
            throw new BasaltException.WrongState("sandbox " + id + " is " + sandbox.state() + ": its network policy cannot change");
        }
        boolean proxied = sandbox.spec().network().mode() == NetworkMode.PROXY;
        if (proxied != (policy.mode() == NetworkMode.PROXY)) {
            throw new BasaltException.InvalidArgument("sandbox " + id + " is " + (proxied ? "" : "not ") + "in proxy mode: "
                    + "its policy can change its lists, not whether it uses the in-guest proxy");
        }
        if (!proxied && sandbox.state() != dev.basalt.api.SandboxState.PAUSED) {   // a paused one has no slot: its resume applies it
            network.setPolicy(id, policy);
        }
        sandbox.respec(sandbox.spec().withNetwork(policy));   // fork children inherit the live policy
        record(sandbox);
    }

    /** Forwards 127.0.0.1:{@code hostPort} (0: any free port) to a guest port. Only for a networked sandbox that is not stopped. */
    PortForward forwardPort(ManagedSandbox sandbox, int guestPort, int hostPort) {
        PortForward.checkPort("guest port", guestPort);
        if (hostPort < 0 || hostPort > 65535) {
            throw new BasaltException.InvalidArgument("host port must be between 0 (any) and 65535, got " + hostPort);
        }
        if (sandbox.state() == dev.basalt.api.SandboxState.PAUSED) {
            throw new BasaltException.WrongState("sandbox " + sandbox.id() + " is PAUSED: resume it, then forward its ports "
                    + "(the forwards it had come back with it)");
        }
        PortForward forward = network.forwardPort(sandbox.id(), guestPort, hostPort);
        sandbox.portForwards(network.portForwards(sandbox.id()));
        record(sandbox);
        return forward;
    }

    /** Stops forwarding a guest port (idempotent). */
    void unforwardPort(ManagedSandbox sandbox, int guestPort) {
        network.unforwardPort(sandbox.id(), guestPort);
        sandbox.portForwards(network.portForwards(sandbox.id()));
        record(sandbox);
    }

    /** Writes a sandbox's record after a change that is no lifecycle event (daemon mode). */
    private void record(ManagedSandbox sandbox) {
        if (store != null) {
            store.save(sandbox);
        }
    }

    /**
     * Networked sandboxes that survived a daemon: their slots are kept (and everything else of the
     * prefix swept), their DNS, proxy and proxied tunnels served again, their port forwards opened
     * again on the same ports. Called once, by a starting daemon, after its sandboxes are reattached.
     */
    /**
     * A sandbox a restarted daemon took over: a proxied one gets its proxy again (its tunnels died with
     * the previous daemon's channel). Only once its agent answers (READY).
     */
    void afterTakeOver(ManagedSandbox sandbox) {
        if (sandbox.spec().network().mode() == NetworkMode.PROXY && sandbox.state().isLive()) {
            startProxy(sandbox);
        }
    }

    void reattach(List<SandboxStore.Row> rows, Function<String, ManagedSandbox> sandboxes) {
        List<SlotPool.Leased> survivors = new ArrayList<>();
        List<ManagedSandbox> networked = new ArrayList<>();
        Map<String, Map<Integer, Integer>> ports = new HashMap<>();
        for (var row : rows) {
            ManagedSandbox sandbox = sandboxes.apply(row.id());
            if (sandbox == null || sandbox.state().isTerminal()) {
                continue;
            }
            if (sandbox.spec().network().mode() == NetworkMode.PROXY) {
                continue;              // see afterTakeOver
            }
            if (sandbox.state() == dev.basalt.api.SandboxState.PAUSED) {
                // no slot while paused (one a dying daemon still recorded is swept); its forwards open at its resume
                Map<Integer, Integer> recorded = row.stored().ports() == null ? Map.of() : row.stored().ports();
                sandbox.portForwards(recorded.entrySet().stream()
                        .map(e -> new PortForward(row.id(), e.getKey(), "127.0.0.1", e.getValue())).toList());
                continue;
            }
            String ns = row.stored().netns();
            if (ns == null) {
                continue;
            }
            Slot slot = network.slotOf(Path.of(ns));
            if (slot == null) {
                log.warn("sandbox {}: its network slot {} is not one of this host's; it stays without network", row.id(), ns);
                continue;
            }
            sandbox.networkNamespace(Path.of(ns));
            NetworkPolicy policy = row.stored().network().mode().hasNic() ? row.stored().network() : SandboxNetwork.NOTHING;
            survivors.add(new SlotPool.Leased(slot, row.id(), policy));
            networked.add(sandbox);
            if (row.stored().ports() != null) {
                ports.put(row.id(), row.stored().ports());
            }
        }
        try {
            network.survivors(survivors);
        } catch (BasaltException e) {
            // the sandboxes keep running, and what nftables decides keeps applying; DNS, the proxy and
            // port forwards wait for a start that works (the next networked create tries again)
            log.error("sandbox networking could not start again for {} networked sandbox(es): {}", networked.size(), e.getMessage());
            return;
        }
        for (ManagedSandbox sandbox : networked) {
            Map<Integer, Integer> forwards = ports.get(sandbox.id());
            if (forwards == null) {
                continue;
            }
            forwards.forEach((guest, host) -> {
                try {
                    network.forwardPort(sandbox.id(), guest, host);
                } catch (BasaltException e) {
                    log.warn("sandbox {}: port {} cannot be forwarded from {} again: {}", sandbox.id(), guest, host, e.getMessage());
                }
            });
            sandbox.portForwards(network.portForwards(sandbox.id()));
            record(sandbox);
        }
    }
}
