package dev.basalt.core;

import dev.basalt.api.SandboxSpec;
import dev.basalt.vmm.VmConfig;
import java.util.function.Function;

/** What the operations split out of {@link SandboxManager} need from it. */
interface SandboxRegistry {

    /** The sandbox with that id; {@code NotFound} otherwise. */
    ManagedSandbox get(String id);

    /**
     * A new STARTING sandbox with its directory, registered (visible in list); {@code config} gives
     * the config of its VM for the id it gets.
     */
    ManagedSandbox register(SandboxSpec spec, Function<String, VmConfig> config, String origin);

    /** Kills the sandbox's VM, deletes its directory and disk files, and unregisters it. */
    void discard(ManagedSandbox sandbox);

    /**
     * A new STARTING sandbox that will take {@code paused}'s place: same id, spec, origin, times,
     * port forwards (opened again once it is {@linkplain #replace in place}); a fresh run directory;
     * its VM {@code config}; a network slot of its own if the config has a NIC. Not visible until
     * {@link #replace}; its events go nowhere until then. Give it up with {@link #abandon}.
     */
    ManagedSandbox successor(ManagedSandbox paused, VmConfig config);

    /** A {@link #successor} that will not take its place: its VM killed, its run directory and network slot freed. */
    void abandon(ManagedSandbox successor);

    /**
     * A paused sandbox's VM has exited: its network slot goes back to the pool (its policy and port
     * forwards stay recorded for the resume). Only after the VM is gone, which held the slot's TAP.
     */
    void releaseNetwork(ManagedSandbox paused);

    /** Puts {@code fresh} in {@code old}'s place (same id) and announces it with {@code kind}. */
    void replace(ManagedSandbox old, ManagedSandbox fresh, dev.basalt.api.SandboxEvent.Kind kind);

    /**
     * Gives a registered sandbox whose VM has not started its own disk files ({@link Disks#attach}) for
     * {@code config}, the chains it starts from; do it when they exist (a template's once it is made).
     */
    void attachDisks(ManagedSandbox sandbox, VmConfig config);

    /** Records a running sandbox's changed config durably (a daemon's reattach rebuilds from it). */
    void persist(ManagedSandbox sandbox);
}
