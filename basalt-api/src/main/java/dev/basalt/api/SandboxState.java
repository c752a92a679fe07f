package dev.basalt.api;

/**
 * Lifecycle state of a sandbox.
 *
 * <pre>
 * create → STARTING → READY ⇄ RUNNING (at least one exec in flight) → STOPPING → STOPPED → (remove)
 *                   ↘ FAILED (boot or agent failure; the reason is kept in {@link SandboxInfo#failure()})
 *          READY --pause--> PAUSED --resume--> READY (same id, memory, files and processes)
 * </pre>
 */
public enum SandboxState {
    /** The VM is booting; the guest agent has not answered yet. */
    STARTING,
    /** The guest agent answers and no exec is in flight. Every operation is allowed. */
    READY,
    /** At least one exec is in flight. Every operation is allowed, including more execs. */
    RUNNING,
    /** A stop was requested; the VM is shutting down. Only inspect and remove are allowed. */
    STOPPING,
    /** The VM has exited after a stop. Only inspect, logs and remove are allowed. */
    STOPPED,
    /** The VM died or never became ready. Only inspect, logs and remove are allowed. */
    FAILED,
    /**
     * Its full state (memory, devices, files) is saved on disk and its VM is stopped, so it costs
     * no RAM. Only inspect, resume, setTtl, logs and remove are allowed.
     */
    PAUSED;

    /** True while the guest can serve exec and file operations. */
    public boolean isLive() {
        return this == READY || this == RUNNING;
    }

    /** True once the VM process is gone for good. */
    public boolean isTerminal() {
        return this == STOPPED || this == FAILED;
    }
}
