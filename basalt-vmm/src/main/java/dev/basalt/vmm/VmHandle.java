package dev.basalt.vmm;

import java.nio.file.Path;
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

    /** Freezes the guest's vCPUs (the process keeps running). */
    void pause();

    /** Runs the guest's vCPUs again after {@link #pause()} or {@link #loadState}. */
    void resume();

    /**
     * Gives a VM started {@linkplain VmSpec#background() in the background} the normal CPU priority,
     * without blocking the caller (it takes about a millisecond, done on a thread of its own);
     * otherwise nothing.
     */
    default void toForeground() {
    }

    /**
     * Pauses the VM and writes its state to {@code file}: device state only when the RAM lives in a
     * file ({@link MemoryBacking#ramOutsideStream()}), device state and RAM otherwise. The VM stays
     * paused; call {@link #resume()} to let it go on. Only while the VM runs or is paused.
     */
    void saveState(Path file);

    /**
     * Loads the state written by {@link #saveState} that the VM was launched for
     * ({@link VmSpec#incoming()}); the VM stays paused until {@link #resume()}. Only once, right
     * after launch.
     *
     * @param ramInStream whether the state holds the RAM (false for a template's state, whose RAM is
     *                    the memory file this VM maps)
     */
    void loadState(boolean ramInStream);

    /** Human-readable explanation of why the process ended, from QEMU's own log; empty if nothing. */
    String vmmLogTail(int maxBytes);
}
