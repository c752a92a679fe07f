package dev.basalt.core;

import dev.basalt.api.BasaltException;
import dev.basalt.api.SandboxEvent;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.SandboxState;
import dev.basalt.vmm.Hypervisor;
import dev.basalt.vmm.VmConfig;
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
 *          READY → PAUSED (its VM saved and stopped; {@link PauseOps} resumes it as a new object)
 * </pre>
 */
final class ManagedSandbox {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ManagedSandbox.class);
    private final String id;
    private final Path dir;
    private final Hypervisor hypervisor;
    private Instant createdAt = Instant.now();
    private final String origin;
    private volatile VmConfig config;
    private SandboxSpec spec;

    private SandboxState state = SandboxState.STARTING;
    private String failure;
    private Instant readyAt;
    private int execsInFlight;
    private int opsInFlight;
    private boolean frozen;
    /** True while a restarted daemon takes the VM over: operations wait, as for a freeze. */
    private boolean reattaching;
    private VmHandle vm;
    private AgentClient agent;
    private Instant expiresAt;
    /** When a create got it from a warm pool; null: it was made for its create. */
    private Instant handedOutAt;
    private java.util.function.Consumer<SandboxEvent> events;

    /**
     * @param config     what its VM is built from (named after {@code id})
     * @param dir        its run directory
     * @param hypervisor the backend its VM runs on
     */
    ManagedSandbox(String id, SandboxSpec spec, VmConfig config, Path dir, Hypervisor hypervisor, String origin,
                   java.util.function.Consumer<SandboxEvent> events) {
        this.events = events;
        this.id = id;
        this.spec = spec;
        this.config = config;
        this.dir = dir;
        this.hypervisor = hypervisor;
        this.origin = origin;
    }

    synchronized SandboxSpec spec() {
        return spec;
    }

    /** Gives a pooled sandbox the spec (labels) of the create that took it, now (its age counts from here). */
    synchronized void respec(SandboxSpec newSpec) {
        this.spec = newSpec;
        this.handedOutAt = Instant.now();
    }

    /** The network namespace the VMM starts in (its network slot's), or null without a NIC. Set before the VM starts. */
    private volatile Path networkNamespace;

    void networkNamespace(Path ns) {
        this.networkNamespace = ns;
    }

    Path networkNamespace() {
        return networkNamespace;
    }

    /** The sandbox's port forwards as last set (recorded, so that a restarted daemon opens them again). */
    private volatile java.util.List<dev.basalt.api.PortForward> portForwards = java.util.List.of();

    void portForwards(java.util.List<dev.basalt.api.PortForward> forwards) {
        this.portForwards = java.util.List.copyOf(forwards);
    }

    java.util.List<dev.basalt.api.PortForward> portForwards() {
        return portForwards;
    }

    /** What its VM is built from: the VM's machine, boot and devices. */
    VmConfig config() {
        return config;
    }

    /**
     * Records that the VM's config changed while it runs (its disks' chains, after a freeze for a
     * checkpoint or fork); the caller persists the sandbox.
     */
    void reconfigure(VmConfig newConfig) {
        this.config = newConfig;
    }

    String id() {
        return id;
    }

    Path dir() {
        return dir;
    }

    synchronized SandboxInfo info() {
        return new SandboxInfo(id, state, spec, hypervisor.accel().id(), vm != null && vm.isAlive() ? vm.pid() : 0, createdAt,
                Optional.ofNullable(readyAt), execsInFlight, Optional.ofNullable(failure), origin,
                Optional.ofNullable(expiresAt), handedOutAt);
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
        this.readyAt = readyAt == null ? Instant.now() : readyAt;
        this.state = SandboxState.READY;
        emit(SandboxEvent.Kind.READY, origin);
        agent.whenLost(why -> agentLost(agent, why));
        return true;
    }

    /**
     * The agent channel of a live sandbox was lost, not closed by Basalt: the guest broke the
     * protocol, stopped reading or answering, or hung up. Unless the VM is exiting anyway (then
     * {@link #onVmExit} says why), the sandbox fails with the channel's reason and its VM is killed:
     * nothing more can be done in it, and a FAILED sandbox holds no resources.
     */
    private void agentLost(AgentClient lostAgent, dev.basalt.vmm.agent.AgentDisconnectedException why) {
        VmHandle v;
        synchronized (this) {
            if (agent != lostAgent || !state.isLive()) {
                return;
            }
            v = vm;
        }
        if (v != null && v.awaitExit(java.time.Duration.ofSeconds(1))) {
            return;
        }
        log.warn("sandbox {} failed: {}", id, why.getMessage());
        if (fail(why.getMessage() + diagnostics()) && v != null) {
            v.kill();
        }
    }

    /**
     * Any non-terminal state → FAILED with {@code reason}. The agent channel is closed (failing the
     * operations in flight); the caller kills the VM. Returns false if already terminal.
     */
    boolean fail(String reason) {
        return end(SandboxState.FAILED, reason);
    }

    /** Ends the sandbox for good without calling it a failure (it is being removed). */
    void retire() {
        end(SandboxState.STOPPED, null);
    }

    private boolean end(SandboxState terminal, String reason) {
        AgentClient toClose;
        synchronized (this) {
            if (state.isTerminal()) {
                return false;
            }
            state = terminal;
            failure = reason;
            toClose = agent;
            agent = null;
            notifyAll();
            if (terminal == SandboxState.FAILED) {
                emit(SandboxEvent.Kind.FAILED, reason);
            }
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
        awaitReattach(operation);
        waitWhile(() -> frozen && state.isLive(), operation, "a checkpoint or fork has held it paused for too long");
        if (!state.isLive()) {
            throw wrongState(operation);
        }
        opsInFlight++;
        if (exec) {
            execsInFlight++;
            state = SandboxState.RUNNING;
        }
        return agent;
    }

    /** Ends an operation taken with {@link #acquire}; the last exec moves RUNNING → READY. */
    synchronized void release(boolean exec) {
        opsInFlight--;
        notifyAll();
        if (exec) {
            execsInFlight--;
            if (execsInFlight == 0 && state == SandboxState.RUNNING) {
                state = SandboxState.READY;
            }
        }
    }

    /**
     * Holds the sandbox still for a checkpoint or fork: new operations wait until {@link #thaw()}.
     * Only when READY with no operation in flight, so the agent channel is at a frame boundary.
     */
    synchronized AgentClient freeze(String operation) {
        awaitReattach(operation);
        if (state != SandboxState.READY) {
            throw state == SandboxState.RUNNING
                    ? new BasaltException.WrongState("cannot " + operation + " sandbox " + id + ": "
                            + execsInFlight + " exec(s) in flight; it must be READY")
                    : wrongState(operation);
        }
        if (frozen || opsInFlight > 0) {
            throw new BasaltException.WrongState("cannot " + operation + " sandbox " + id + ": "
                    + (frozen ? "another checkpoint or fork is running" : opsInFlight + " operation(s) in flight")
                    + "; retry when it is idle");
        }
        frozen = true;
        return agent;
    }

    /**
     * Holds the sandbox still for a pause, like {@link #freeze}: only when READY with no operation in
     * flight. {@link #paused()} ends it as PAUSED, {@link #thaw()} if the pause fails.
     */
    synchronized AgentClient beginPause() {
        return freeze("pause");
    }

    /**
     * The state is saved: the sandbox is PAUSED (operations that waited for the freeze now fail) and
     * hands over its agent connection for the caller to close before it stops the VM.
     */
    synchronized AgentClient paused() {
        AgentClient a = agent;
        agent = null;
        state = SandboxState.PAUSED;
        frozen = false;
        notifyAll();
        emit(SandboxEvent.Kind.PAUSED, "");
        return a;
    }

    /** A restarted daemon is taking this sandbox's VM over: operations wait until {@link #endReattach}. */
    synchronized void beginReattach() {
        reattaching = true;
    }

    /** True while a restarted daemon takes this sandbox's VM over. */
    synchronized boolean reattaching() {
        return reattaching;
    }

    /** The take-over is done (READY, or FAILED with the reason): waiting operations go on. */
    synchronized void endReattach() {
        reattaching = false;
        notifyAll();
    }

    /** Waits (under the lock, at most a minute) while the VM is being taken over. */
    private void awaitReattach(String operation) {
        waitWhile(() -> reattaching, operation, "basaltd has been taking it over after a restart for too long");
    }

    /** Waits under the lock, at most a minute, while {@code blocked}; then throws TimedOut saying {@code why}. */
    private void waitWhile(java.util.function.BooleanSupplier blocked, String operation, String why) {
        long deadline = System.nanoTime() + FREEZE_WAIT_NANOS;
        while (blocked.getAsBoolean()) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new BasaltException.TimedOut("cannot " + operation + " in sandbox " + id + ": " + why);
            }
            try {
                wait(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new BasaltException.Unavailable("interrupted while waiting for sandbox " + id);
            }
        }
    }

    /** Ends {@link #freeze}: waiting operations go on. */
    synchronized void thaw() {
        frozen = false;
        notifyAll();
    }

    /** Moves to STOPPING and hands over the agent (or null). Returns empty if already terminal. */
    synchronized Optional<AgentClient> beginStop() {
        if (state.isTerminal()) {
            return Optional.empty();
        }
        state = SandboxState.STOPPING;
        AgentClient a = agent;
        agent = null;
        notifyAll();
        emit(SandboxEvent.Kind.STOPPING, "");
        return Optional.ofNullable(a);
    }

    /** STOPPING → STOPPED once the VM is gone. */
    synchronized void stopped() {
        if (state == SandboxState.STOPPING) {
            state = SandboxState.STOPPED;
            emit(SandboxEvent.Kind.STOPPED, "");
        }
        notifyAll();
    }

    /**
     * Puts back what a previous run of the daemon recorded: creation and ready times, its state (a
     * RUNNING one is READY: the dead daemon's execs are gone) and failure. No events are sent.
     */
    synchronized void restoreRecord(Instant created, Instant ready, SandboxState recorded, String recordedFailure) {
        this.createdAt = created;
        this.readyAt = ready;
        this.state = recorded == SandboxState.RUNNING ? SandboxState.READY : recorded;
        this.failure = recordedFailure;
    }

    /**
     * The agent of a VM taken over after a restart answered: a sandbox recorded live serves again.
     * Returns false if it was stopped or failed meanwhile.
     */
    synchronized boolean reattached(AgentClient agent) {
        if (!state.isLive()) {
            return false;
        }
        this.agent = agent;
        this.state = SandboxState.READY;
        emit(SandboxEvent.Kind.READY, origin);
        agent.whenLost(why -> agentLost(agent, why));
        return true;
    }

    /** Closes the agent and VM connections but leaves the VM running (daemon shutdown; a restart reattaches). */
    void detach() {
        AgentClient toClose;
        VmHandle v;
        synchronized (this) {
            toClose = agent;
            v = vm;
            agent = null;
            events = event -> { };
            if (state.isLive()) {
                state = SandboxState.STOPPING;   // as seen by this process: nothing more will be served
            }
        }
        if (toClose != null) {
            toClose.close();
        }
        if (v != null) {
            v.detach();
        }
    }

    /** Sends this sandbox's future events to {@code sink} (a pooled sandbox gets the bus when it is taken). */
    synchronized void publishTo(java.util.function.Consumer<SandboxEvent> sink) {
        this.events = sink;
    }

    /** Sets when the sandbox expires. */
    synchronized void expireAt(Instant when) {
        expiresAt = when;
        emit(SandboxEvent.Kind.TTL_CHANGED, when.toString());
    }

    synchronized Instant expiresAt() {
        return expiresAt;
    }

    /** Publishes an event about this sandbox (under the lock, so events keep the order of transitions). */
    synchronized void emit(SandboxEvent.Kind kind, String detail) {
        events.accept(new SandboxEvent(id, kind, state, Instant.now(), detail));
    }

    /**
     * Stops the VM: the agent is asked to power off, then the VM is killed if it has not exited within
     * {@code grace}. Allowed in every state; a no-op once terminal.
     */
    void stop(java.time.Duration grace) {
        synchronized (this) {
            awaitReattach("stop");     // the VM may not be attached yet
        }
        ManagedSandbox sandbox = this;
        var agent = sandbox.beginStop();
        VmHandle vm = sandbox.vm();
        agent.ifPresent(a -> {
            try {
                a.shutdown(grace.compareTo(java.time.Duration.ofSeconds(2)) < 0 ? grace : java.time.Duration.ofSeconds(2));
            } catch (RuntimeException e) {
                log.debug("sandbox {}: agent shutdown failed: {}", sandbox.id(), e.getMessage());
            } finally {
                a.close();
            }
        });
        if (vm != null && !vm.awaitExit(grace)) {
            log.info("sandbox {} did not power off within {} ms: killing it", sandbox.id(), grace.toMillis());
        }
        if (vm != null) {
            vm.kill();
        }
        sandbox.stopped();
    }

    /** Called when the VMM process exits, whatever the reason. */
    void onVmExit(int exitCode) {
        synchronized (this) {
            if (state == SandboxState.PAUSED) {
                return;   // stopped on purpose once its state was saved
            }
            if (state == SandboxState.STOPPING) {
                state = SandboxState.STOPPED;
                emit(SandboxEvent.Kind.STOPPED, "");
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
        return hypervisor.consoleTail(config, dir, maxBytes);
    }

    private static final long FREEZE_WAIT_NANOS = 60_000_000_000L;

    private BasaltException wrongState(String operation) {
        String why = switch (state) {
            case STARTING -> "it is still starting; wait until it is READY";
            case STOPPING, STOPPED -> "it is " + state + "; create a new sandbox";
            case FAILED -> "it FAILED: " + firstLine(failure) + " (see `basalt inspect " + id + "`)";
            case PAUSED -> "it is PAUSED; resume it first (`basalt resume " + id + "`)";
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
