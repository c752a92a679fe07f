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

    /** Kills the sandbox's VM, deletes its directory and unregisters it. */
    void discard(ManagedSandbox sandbox);
}
