package dev.basalt.core;

import dev.basalt.api.BasaltException;
import dev.basalt.api.SandboxEvent;
import dev.basalt.api.SandboxState;
import dev.basalt.vmm.Hypervisor;
import dev.basalt.vmm.VmHandle;
import dev.basalt.vmm.agent.AgentClient;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds a daemon's sandboxes after a restart from their stored records: a VM that still runs is
 * taken over (its QMP and agent sockets accept a new connection; a save the dead daemon left
 * paused or going is cancelled and the guest resumed; the agent has aborted whatever the dead
 * daemon had in flight and answers a fresh {@code HELLO}); a VM that died meanwhile leaves a
 * FAILED sandbox that says so. {@link #placeholder} makes the sandbox at once, so the daemon can
 * list it and serve while {@link #reattach} runs in the background (operations on it wait).
 */
final class Reattacher {
    private static final Logger log = LoggerFactory.getLogger(Reattacher.class);
    private static final Duration AGENT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration FIRST_HELLO = Duration.ofSeconds(2);
    private static final Duration RECONNECT_PAUSE = Duration.ofMillis(300);

    private final Hypervisor hypervisor;
    private final RunRoot runRoot;
    private final SandboxCgroups cgroups;

    Reattacher(Hypervisor hypervisor, RunRoot runRoot, SandboxCgroups cgroups) {
        this.hypervisor = hypervisor;
        this.runRoot = runRoot;
        this.cgroups = cgroups;
    }

    /**
     * The sandbox of a record, in its recorded state (which stays in the store, so a daemon killed
     * again before the take-over finds it again); one that was not over waits for {@link #reattach}.
     */
    ManagedSandbox placeholder(SandboxStore.Row row, Consumer<SandboxEvent> events) {
        SandboxStore.Stored stored = row.stored();
        Path dir = runRoot.path().resolve(row.id());
        ManagedSandbox sandbox = new ManagedSandbox(row.id(), stored.spec(), stored.config(row.id()), dir, hypervisor,
                stored.origin(), events);
        sandbox.restoreRecord(java.time.Instant.parse(stored.createdAt()), row.readyAt(), row.state(), row.failure());
        if (!row.state().isTerminal() && row.state() != SandboxState.PAUSED) {
            sandbox.beginReattach();
        }
        return sandbox;
    }

    /** Takes the VM of a {@linkplain #placeholder placeholder} over; it ends READY, STOPPING or FAILED. */
    void reattach(ManagedSandbox sandbox, SandboxStore.Row row) {
        if (row.state().isTerminal() || row.state() == SandboxState.PAUSED) {
            return;   // no VM to take over: a paused sandbox's state waits on disk
        }
        try {
            takeOver(sandbox, row);
        } finally {
            sandbox.endReattach();
        }
        log.info("sandbox {} reattached: {}", row.id(), sandbox.state());
    }

    /**
     * Connects to the agent and says {@code HELLO}. A daemon that restarts faster than the guest
     * notices the old connection's end leaves the agent in the middle of whatever frame the dead
     * daemon was writing, which swallows the new {@code HELLO}: without an answer in
     * {@link #FIRST_HELLO}, the connection is dropped, which the agent does see this time, and made
     * again.
     */
    private static AgentClient connect(VmHandle vm) throws IOException {
        try {
            return AgentClient.connect(vm.connectAgent(AGENT_TIMEOUT), FIRST_HELLO);
        } catch (dev.basalt.vmm.agent.AgentTimeoutException e) {
            log.info("VM {}: the agent did not answer HELLO within {} ms: connecting again", vm.config().name(),
                    FIRST_HELLO.toMillis());
            try {
                Thread.sleep(RECONNECT_PAUSE);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while reconnecting to the agent", ie);
            }
            return AgentClient.connect(vm.connectAgent(AGENT_TIMEOUT), AGENT_TIMEOUT);
        }
    }

    private void takeOver(ManagedSandbox sandbox, SandboxStore.Row row) {
        Path dir = sandbox.dir();
        long pid = row.vmmPid() > 0 ? row.vmmPid() : runRoot.recordedVmmPid(dir);
        VmHandle vm;
        try {
            vm = hypervisor.attach(sandbox.config(), dir, pid);
        } catch (BasaltException e) {
            sandbox.fail("its VM died while basaltd was not running (" + e.getMessage() + ")" + sandbox.diagnostics());
            cgroups.remove(row.id());
            return;
        }
        sandbox.attach(vm);
        runRoot.recordVmm(dir, vm.pid());
        vm.exited().thenAccept(sandbox::onVmExit);
        cgroups.removeWhenExited(row.id(), vm.exited());
        if (row.state() == SandboxState.STOPPING) {
            return;   // the caller finishes the stop
        }
        try {
            vm.ensureRunning();   // a checkpoint or fork the dead daemon was saving left it paused
            AgentClient agent = connect(vm);
            try {
                // the agent aborts what the dead daemon left open, should it have missed its hang-up
                agent.identity(sandbox.id(), java.time.Instant.now(), SandboxBuilder.seed(), AGENT_TIMEOUT);
            } catch (RuntimeException e) {
                agent.close();
                throw e;
            }
            if (!sandbox.reattached(agent)) {
                agent.close();
            }
        } catch (IOException | RuntimeException e) {
            sandbox.fail("its guest agent did not answer after basaltd restarted: " + e.getMessage() + sandbox.diagnostics());
            vm.kill();
        }
    }
}
