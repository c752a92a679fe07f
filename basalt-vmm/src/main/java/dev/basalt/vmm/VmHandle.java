package dev.basalt.vmm;

import dev.basalt.vmm.agent.AgentTransport;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A running VM process. Valid from a successful {@link Hypervisor#boot}, {@link Hypervisor#startForState}
 * or {@link Hypervisor#attach} until {@link #kill()} has returned; all methods are thread-safe.
 */
public interface VmHandle {

    /** What the VM was built from. */
    VmConfig config();

    /** Accelerator the VM runs on. */
    Accel accel();

    /** Host pid of the VMM process. */
    long pid();

    /** True while the VMM process runs. */
    boolean isAlive();

    /** Completes with the VMM's exit code when its process ends (for any reason; -1 if unknown). */
    CompletableFuture<Integer> exited();

    /**
     * Waits up to {@code timeout} for the process to exit on its own (e.g. after the guest powered off);
     * returns true if it did.
     */
    boolean awaitExit(Duration timeout);

    /**
     * Lets go of the VM without stopping it: its control and console connections close, so that
     * the next manager can {@linkplain Hypervisor#attach attach} (a VMM serves one at a time). The
     * handle is not used afterwards. Idempotent.
     */
    void detach();

    /** Kills the VMM process (SIGKILL) and waits for it to be reaped. Idempotent. */
    void kill();

    /**
     * Opens the host end of the guest agent's channel (the {@link Device.AgentPort}), retrying until
     * the VMM accepts it or {@code timeout} passes. Allowed while the VM runs; a new connection
     * replaces an earlier one (after a daemon restart).
     */
    AgentTransport connectAgent(Duration timeout) throws IOException;

    /**
     * Makes sure the guest of a VM found again by {@link Hypervisor#attach} runs: a save its dead
     * manager left going is cancelled, and vCPUs it left paused (a save pauses the VM while it writes
     * the state) run again. Returns the run state found before, e.g. {@code running},
     * {@code postmigrate}. Allowed while the VM runs.
     *
     * @throws dev.basalt.api.BasaltException.Unavailable if the VM still waits for an incoming state
     *                                                   (it never ran: nothing to resume)
     */
    String ensureRunning();

    /** Freezes the guest's vCPUs (the process keeps running). */
    void pause();

    /** Runs the guest's vCPUs again after {@link #pause()} or {@link #loadState()}. */
    void resume();

    /**
     * Gives a VM started {@linkplain LaunchPolicy#background() in the background} the normal CPU
     * priority, without blocking the caller (it takes about a millisecond, done on a thread of its
     * own); otherwise nothing.
     */
    default void toForeground() {
    }

    /**
     * Pauses the VM and writes its state to {@code file}: device state only when the RAM lives in a
     * shared file ({@link MemoryBacking#ramOutsideStream()}), device state and RAM otherwise. The VM
     * stays paused; call {@link #resume()} to let it go on. Only while the VM runs or is paused.
     */
    void saveState(Path file);

    /**
     * Loads the state the VM was {@linkplain Hypervisor#startForState started for}; the VM stays
     * paused until {@link #resume()}. A VM whose RAM maps a file (a template clone) takes only the
     * device state from it. Only once, right after the start.
     */
    void loadState();

    /**
     * Freezes the current top of a disk: from now on the VM writes {@code next.top()} (an empty
     * qcow2 file the caller made on the current top), and the old top is a read-only layer that
     * clones, snapshots and fork children may share. {@code next} is the disk (same id) with the
     * current top as its last layer (by any name of that file) and the new top. Only while the VM
     * is paused (so memory and disk are captured at one instant); returns the VM's config with
     * {@code next}, which {@link #config()} returns from now on.
     */
    VmConfig freezeDisk(Device.Disk next);

    /** The tail of the serial console, at most {@code maxBytes}. */
    String consoleTail(int maxBytes);

    /** Human-readable explanation of why the process ended, from the VMM's own log; empty if nothing. */
    String vmmLogTail(int maxBytes);
}
