package dev.basalt.core;

import dev.basalt.api.SandboxSpec;

/** What the operations split out of {@link SandboxManager} need from it. */
interface SandboxRegistry {

    /** The sandbox with that id; {@code NotFound} otherwise. */
    ManagedSandbox get(String id);

    /** A new STARTING sandbox with its directory, registered (visible in list). */
    ManagedSandbox register(SandboxSpec spec, GuestImage image, String origin);

    /** Kills the sandbox's VM, deletes its directory and unregisters it. */
    void discard(ManagedSandbox sandbox);
}
