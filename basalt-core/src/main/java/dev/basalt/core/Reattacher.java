package dev.basalt.core;

import dev.basalt.api.BasaltException;
import dev.basalt.api.SandboxEvent;
import dev.basalt.api.SandboxState;
import dev.basalt.vmm.Hypervisor;
import dev.basalt.vmm.VmConfig;
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
 * taken over (its QMP and agent sockets accept a new connection; the agent has aborted whatever the
 * dead daemon had in flight and answers a fresh {@code HELLO}); a VM that died meanwhile leaves a
 * FAILED sandbox that says so.
 */
final class Reattacher {
    private static final Logger log = LoggerFactory.getLogger(Reattacher.class);
    private static final Duration AGENT_TIMEOUT = Duration.ofSeconds(10);

    private final Hypervisor hypervisor;
    private final RunRoot runRoot;
    private final SandboxCgroups cgroups;

    Reattacher(Hypervisor hypervisor, RunRoot runRoot, SandboxCgroups cgroups) {
        this.hypervisor = hypervisor;
        this.runRoot = runRoot;
        this.cgroups = cgroups;
    }

    ManagedSandbox reattach(SandboxStore.Row row, Consumer<SandboxEvent> events) {
        SandboxStore.Stored stored = row.stored();
        Path dir = runRoot.path().resolve(row.id());
        VmConfig config = stored.config(row.id());
        ManagedSandbox sandbox = new ManagedSandbox(row.id(), stored.spec(), config, dir, hypervisor, stored.origin(), events);
        sandbox.restoreRecord(java.time.Instant.parse(stored.createdAt()), row.readyAt(), row.state(), row.failure());
        if (row.state().isTerminal() || row.state() == SandboxState.PAUSED) {
            return sandbox;   // no VM to take over: a paused sandbox's state waits on disk
        }
        long pid = row.vmmPid() > 0 ? row.vmmPid() : runRoot.recordedVmmPid(dir);
        VmHandle vm;
        try {
            vm = hypervisor.attach(config, dir, pid);
        } catch (BasaltException e) {
            sandbox.fail("its VM died while basaltd was not running (" + e.getMessage() + ")" + sandbox.diagnostics());
            cgroups.remove(row.id());
            return sandbox;
        }
        sandbox.attach(vm);
        runRoot.recordVmm(dir, vm.pid());
        vm.exited().thenAccept(sandbox::onVmExit);
        vm.exited().thenRunAsync(() -> cgroups.remove(row.id()), Thread.ofVirtual()::start);
        if (row.state() == SandboxState.STOPPING) {
            return sandbox;   // the caller finishes the stop
        }
        try {
            AgentClient agent = AgentClient.connect(vm.connectAgent(AGENT_TIMEOUT), AGENT_TIMEOUT);
            if (!sandbox.ready(agent)) {
                agent.close();
            }
        } catch (IOException | RuntimeException e) {
            sandbox.fail("its guest agent did not answer after basaltd restarted: " + e.getMessage() + sandbox.diagnostics());
            vm.kill();
        }
        log.info("sandbox {} reattached: {}", row.id(), sandbox.state());
        return sandbox;
    }
}
