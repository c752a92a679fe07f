package dev.basalt.vmm;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A running VM process. Valid from a successful {@link Hypervisor#launch} until {@link #kill()}
 * has returned; all methods are thread-safe.
 */
public interface VmHandle {

    VmSpec spec();

    /** Accelerator the VM runs on. */
    Accel accel();

    /** Host pid of the VMM process. */
    long pid();

    /** True while the VMM process runs. */
    boolean isAlive();

    /** Completes with the VMM's exit code when its process ends (for any reason). */
    CompletableFuture<Integer> exited();

    /**
     * Waits up to {@code timeout} for the process to exit on its own (e.g. after the guest powered off);
     * returns true if it did.
     */
    boolean awaitExit(Duration timeout);

    /** Kills the VMM process (SIGKILL) and waits for it to be reaped. Idempotent. */
    void kill();

    /** Human-readable explanation of why the process ended, from QEMU's own log; empty if nothing. */
    String vmmLogTail(int maxBytes);
}
