package dev.basalt.core;

import dev.basalt.api.BasaltException;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.SandboxState;
import dev.basalt.vmm.LogFiles;
import dev.basalt.vmm.VmHandle;
import dev.basalt.vmm.agent.AgentClient;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * One sandbox and its state machine. All transitions happen under one lock:
 *
 * <pre>
 * STARTING → READY ⇄ RUNNING → STOPPING → STOPPED
 *          ↘ FAILED  (from any non-terminal state when the VM or the agent dies)
 * </pre>
 */
final class ManagedSandbox {
    private final String id;
    private final SandboxSpec spec;
    private final Path dir;
    private final String accel;
    private final Instant createdAt = Instant.now();

    private SandboxState state = SandboxState.STARTING;
    private String failure;
    private Instant readyAt;
    private int execsInFlight;
    private VmHandle vm;
    private AgentClient agent;

    ManagedSandbox(String id, SandboxSpec spec, Path dir, String accel) {
        this.id = id;
        this.spec = spec;
        this.dir = dir;
        this.accel = accel;
    }

    String id() {
        return id;
    }

    Path dir() {
        return dir;
    }

    synchronized SandboxInfo info() {
        return new SandboxInfo(id, state, spec, accel, vm != null && vm.isAlive() ? vm.pid() : 0, createdAt,
                Optional.ofNullable(readyAt), execsInFlight, Optional.ofNullable(failure));
    }

    synchronized SandboxState state() {
        return state;
    }

    synchronized VmHandle vm() {
        return vm;
    }

    synchronized void attach(VmHandle vm) {
        this.vm = vm;
    }

    /** STARTING → READY once the agent answered. Returns false if the sandbox left STARTING meanwhile. */
    synchronized boolean ready(AgentClient agent) {
        if (state != SandboxState.STARTING) {
            return false;
        }
        this.agent = agent;
        this.readyAt = Instant.now();
        this.state = SandboxState.READY;
        return true;
    }

    /**
     * Any non-terminal state → FAILED with {@code reason}. The agent channel is closed (failing the
     * operations in flight); the caller kills the VM. Returns false if already terminal.
     */
    boolean fail(String reason) {
        AgentClient toClose;
        synchronized (this) {
            if (state.isTerminal()) {
                return false;
            }
            state = SandboxState.FAILED;
            failure = reason;
            toClose = agent;
            agent = null;
        }
        if (toClose != null) {
            toClose.close();
        }
        return true;
    }

    /**
     * Takes the agent for one operation. Only when READY or RUNNING; an exec moves READY → RUNNING
     * and must be paired with {@link #release(boolean)}.
     */
    synchronized AgentClient acquire(String operation, boolean exec) {
        if (!state.isLive()) {
            throw wrongState(operation);
        }
        if (exec) {
            execsInFlight++;
            state = SandboxState.RUNNING;
        }
        return agent;
    }

    /** Ends an operation taken with {@link #acquire}; the last exec moves RUNNING → READY. */
    synchronized void release(boolean exec) {
        if (exec) {
            execsInFlight--;
            if (execsInFlight == 0 && state == SandboxState.RUNNING) {
                state = SandboxState.READY;
            }
        }
    }

    /** Moves to STOPPING and hands over the agent (or null). Returns empty if already terminal. */
    synchronized Optional<AgentClient> beginStop() {
        if (state.isTerminal()) {
            return Optional.empty();
        }
        state = SandboxState.STOPPING;
        AgentClient a = agent;
        agent = null;
        return Optional.ofNullable(a);
    }

    /** STOPPING → STOPPED once the VM is gone. */
    synchronized void stopped() {
        if (state == SandboxState.STOPPING) {
            state = SandboxState.STOPPED;
        }
    }

    /** Called when the VMM process exits, whatever the reason. */
    void onVmExit(int exitCode) {
        synchronized (this) {
            if (state == SandboxState.STOPPING) {
                state = SandboxState.STOPPED;
                return;
            }
        }
        fail("VM exited unexpectedly (QEMU exit code " + exitCode + ")" + diagnostics());
    }

    /** QEMU's own messages and the tail of the console, for failure reasons. */
    String diagnostics() {
        StringBuilder b = new StringBuilder();
        VmHandle v = vm();
        if (v != null) {
            String vmm = v.vmmLogTail(1000).strip();
            if (!vmm.isEmpty()) {
                b.append("; QEMU said: ").append(vmm);
            }
        }
        String console = consoleTail(1500).strip();
        if (!console.isEmpty()) {
            b.append("; console tail:\n").append(console);
        }
        return b.toString();
    }

    String consoleTail(int maxBytes) {
        return LogFiles.tail(dir.resolve("console.log"), maxBytes);
    }

    private BasaltException wrongState(String operation) {
        String why = switch (state) {
            case STARTING -> "it is still starting; wait until it is READY";
            case STOPPING, STOPPED -> "it is " + state + "; create a new sandbox";
            case FAILED -> "it FAILED: " + firstLine(failure) + " (see `basalt inspect " + id + "`)";
            case READY, RUNNING -> "unexpected state " + state;
        };
        return new BasaltException.WrongState("cannot " + operation + " in sandbox " + id + ": " + why);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unknown reason";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
