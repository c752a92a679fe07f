package dev.basalt.core;

import dev.basalt.api.BasaltException;
import dev.basalt.api.SandboxSpec;
import dev.basalt.vmm.Hypervisor;
import dev.basalt.vmm.LaunchPolicy;
import dev.basalt.vmm.MemoryBacking;
import dev.basalt.vmm.VmConfig;
import dev.basalt.vmm.VmHandle;
import dev.basalt.vmm.agent.AgentClient;
import dev.basalt.vmm.agent.AgentTransport;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Function;

/**
 * The two recipes that end in a READY sandbox: {@link #forBoot} boots a kernel, {@link #fromState}
 * loads a saved state (a template, a snapshot or a fork) into a VM waiting for it and gives the
 * guest its own identity. On failure both throw and leave the VM to the caller to discard.
 */
final class SandboxBuilder {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SandboxBuilder.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Throw-away execs a pool item runs before it is pooled (see {@link #warmUp}). */
    private static final int POOL_WARM_UP_EXECS = 3;
    /** The least time a pool item may take to be made (see {@link #prepareTimeout}). */
    private static final Duration POOL_PREPARE_TIMEOUT = Duration.ofMinutes(10);

    private final Hypervisor hypervisor;
    private final RunRoot runRoot;
    private final LaunchPolicy policy;
    private final SandboxCgroups cgroups;

    /**
     * @param policy  how every VM starts (whether it dies with this process, its confinement); pool VMs
     *                add the background priority, each VM its own cgroups
     * @param cgroups the per-sandbox caps every VM gets
     */
    SandboxBuilder(Hypervisor hypervisor, RunRoot runRoot, LaunchPolicy policy, SandboxCgroups cgroups) {
        this.hypervisor = hypervisor;
        this.runRoot = runRoot;
        this.policy = policy;
        this.cgroups = cgroups;
    }

    /**
     * Starts the VM of sandbox {@code id}, of {@code config}, in its own cgroups (made now, removed
     * once the VM has exited, or at once if it does not start). Every VM any recipe makes starts here.
     */
    private VmHandle start(String id, SandboxSpec spec, VmConfig config, boolean background,
                           Function<LaunchPolicy, VmHandle> how) {
        return start(id, spec, config, background, null, how);
    }

    /** {@link #start} in network namespace {@code netns} (a networked sandbox's slot), if not null. */
    private VmHandle start(String id, SandboxSpec spec, VmConfig config, boolean background, Path netns,
                           Function<LaunchPolicy, VmHandle> how) {
        boolean mapsTemplate = config.machine().memory() instanceof MemoryBacking.PrivateFile;
        List<Path> groups = cgroups.create(id, spec, mapsTemplate);
        try {
            LaunchPolicy p = policy.inBackground(background).withCgroups(groups);
            VmHandle vm = how.apply(netns == null ? p : p.withNetworkNamespace(netns));
            cgroups.removeWhenExited(id, vm.exited());
            return vm;
        } catch (RuntimeException e) {
            cgroups.remove(id);
            throw e;
        }
    }

    /** Recipe 1: boot the sandbox's VM ({@link ManagedSandbox#config()}) and wait for the agent's first answer. */
    void forBoot(ManagedSandbox sandbox) {
        SandboxSpec spec = sandbox.spec();
        long deadline = System.nanoTime() + spec.bootTimeout().toNanos();
        VmHandle vm = adopt(sandbox, start(sandbox.id(), spec, sandbox.config(), false, sandbox.networkNamespace(),
                p -> hypervisor.boot(sandbox.config(), sandbox.dir(), p)));
        CrashPoint.reach("boot-started");
        Duration remaining = remaining(deadline);
        AgentClient agent;
        try {
            agent = AgentClient.connect(vm.connectAgent(remaining), remaining);
        } catch (IOException | RuntimeException e) {
            String why = vm.isAlive() ? "the guest agent did not answer within " + spec.bootTimeout().toSeconds() + " s"
                    : "the VM exited during boot";
            throw new BasaltException.Unavailable(why + ": " + e.getMessage(), e);
        }
        becomeReady(sandbox, agent);
    }

    /**
     * Recipe 2: start the sandbox's VM for the saved {@code state} (a snapshot's or a fork's, RAM
     * included), load it, resume it and give the guest the sandbox's identity.
     */
    void fromState(ManagedSandbox sandbox, Path state, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        VmHandle vm = adopt(sandbox, start(sandbox.id(), sandbox.spec(), sandbox.config(), false, sandbox.networkNamespace(),
                p -> hypervisor.startForState(sandbox.config(), sandbox.dir(), p, state)));
        CrashPoint.reach("restore-started");
        AgentClient agent = resume(sandbox.id(), vm, deadline);
        giveIdentity(sandbox, agent, deadline);
    }

    /**
     * Recipe 2 for a template: a private copy-on-write mapping of its memory, its device state.
     * {@code forPool}: the VM is prepared in the background at a low CPU priority, raised when
     * the pool hands it out, and runs the {@link #warmUp} execs before it gets its identity.
     */
    void fromTemplate(ManagedSandbox sandbox, Template template, boolean forPool) {
        checkTemplateRoom(template);
        long deadline = System.nanoTime() + prepareTimeout(sandbox.spec(), forPool).toNanos();
        VmHandle vm = adopt(sandbox, start(sandbox.id(), sandbox.spec(), sandbox.config(), forPool, sandbox.networkNamespace(),
                p -> hypervisor.startForState(sandbox.config(), sandbox.dir(), p, template.stateFile())));
        if (!forPool) {
            CrashPoint.reach("clone-started");
        }
        AgentClient agent = resume(sandbox.id(), vm, deadline);
        if (forPool) {
            warmUp(agent, deadline);
        }
        giveIdentity(sandbox, agent, deadline);
    }

    /**
     * Recipe 2 from the restore pool: the VM already runs the template's state (and has translated
     * the agent's hot paths once), so only the identity is left to give.
     */
    void fromStandby(ManagedSandbox sandbox, Standby standby) {
        standby.vm().toForeground();
        attach(sandbox, standby.vm());          // its directory records the VMM since standby() launched it
        giveIdentity(sandbox, standby.agent(), System.nanoTime() + sandbox.spec().bootTimeout().toNanos());
    }

    /**
     * A restore-pool VM: launched on the template's memory, state loaded, resumed, the agent
     * answering, and the paths a hand-out runs exercised once so that TCG has translated them: an
     * identity (its own id as hostname, a fresh seed) and the {@link #warmUp} execs. {@code config}
     * is the template's clone config with the VM's own disks ({@link Disks#attach}).
     * {@link #fromStandby} then gives the sandbox's real identity, which replaces all of it.
     */
    Standby standby(String id, Path dir, Template template, VmConfig config, SandboxSpec spec) {
        checkTemplateRoom(template);
        long deadline = System.nanoTime() + prepareTimeout(spec, true).toNanos();
        VmHandle vm = start(id, spec, config, true, p -> hypervisor.startForState(config, dir, p, template.stateFile()));
        runRoot.recordVmm(dir, vm.pid());
        try {
            AgentClient agent = resume(id, vm, deadline);
            agent.identity(id, Instant.now(), seed(), remaining(deadline));
            warmUp(agent, deadline);
            return new Standby(id, dir, vm, agent);
        } catch (RuntimeException e) {
            vm.kill();
            throw e;
        }
    }

    /** A clone's guest faults the template file's holes in as it uses memory: there must be room for all of them. */
    private static void checkTemplateRoom(Template template) {
        HostResources.checkShmRoom(template.memoryFile().getParent(), HostResources.SHM_MARGIN_MIB + template.memoryMib(),
                () -> HostResources.SHM_MARGIN_MIB + HostResources.templateGrowthMib(template.memoryFile(), template.memoryMib()),
                "a clone of template " + template.name());
    }

    /**
     * How long making a VM from a template may take. A pool item runs under {@code SCHED_IDLE},
     * which on a saturated host gets a tiny share of the CPU, and nobody waits for it: it gets at
     * least {@link #POOL_PREPARE_TIMEOUT} instead of the spec's boot timeout (a broken image is
     * caught before, when its template boots with the normal priority and timeout).
     */
    private static Duration prepareTimeout(SandboxSpec spec, boolean forPool) {
        return forPool && spec.bootTimeout().compareTo(POOL_PREPARE_TIMEOUT) < 0 ? POOL_PREPARE_TIMEOUT : spec.bootTimeout();
    }

    /**
     * Runs {@code true} a few times so that TCG has translated the agent's exec path, the guest
     * kernel's fork, exec and exit and busybox before a user's first exec (the first one in a new
     * QEMU process costs ~100 ms of translation, the third one is as fast as any later one). For pool
     * items only: they are made in the background, so the time is not anybody's latency.
     */
    private static void warmUp(AgentClient agent, long deadline) {
        for (int i = 0; i < POOL_WARM_UP_EXECS; i++) {
            try (var exec = agent.exec(dev.basalt.vmm.agent.ExecSpec.of("true"))) {
                exec.awaitExit(remaining(deadline));
            }
        }
    }

    /** Connects the agent socket, loads the state, runs the guest and waits for the agent's HELLO. */
    private AgentClient resume(String id, VmHandle vm, long deadline) {
        long start = System.nanoTime();
        AgentTransport transport = null;
        try {
            // Connect before the guest runs: the restored virtio port then finds its host present.
            transport = vm.connectAgent(remaining(deadline));
            vm.loadState();
            long loaded = System.nanoTime();
            vm.resume();
            AgentClient agent = AgentClient.connect(transport, remaining(deadline));
            log.debug("sandbox {}: load state {} ms, resume to agent answer {} ms", id,
                    (loaded - start) / 1_000_000, (System.nanoTime() - loaded) / 1_000_000);
            return agent;
        } catch (IOException | RuntimeException e) {
            closeQuietly(transport);
            throw new BasaltException.Unavailable("cannot resume the saved state"
                    + (vm.isAlive() ? "" : " (the VM exited)") + ": " + e.getMessage(), e);
        }
    }

    private static void giveIdentity(ManagedSandbox sandbox, AgentClient agent, long deadline) {
        long start = System.nanoTime();
        try {
            agent.identity(sandbox.id(), Instant.now(), seed(), remaining(deadline));
        } catch (RuntimeException e) {
            agent.close();
            throw new BasaltException.Unavailable("the restored guest refused its new identity: " + e.getMessage(), e);
        }
        long given = System.nanoTime();
        becomeReady(sandbox, agent);
        log.debug("sandbox {}: identity {} us, ready {} us", sandbox.id(), (given - start) / 1000,
                (System.nanoTime() - given) / 1000);
    }

    /** 64 fresh random bytes for a guest's {@code IDENTITY}. */
    static byte[] seed() {
        byte[] seed = new byte[64];
        RANDOM.nextBytes(seed);
        return seed;
    }

    private VmHandle adopt(ManagedSandbox sandbox, VmHandle vm) {
        runRoot.recordVmm(sandbox.dir(), vm.pid());
        return attach(sandbox, vm);
    }

    private static VmHandle attach(ManagedSandbox sandbox, VmHandle vm) {
        sandbox.attach(vm);
        vm.exited().thenAccept(sandbox::onVmExit);
        return vm;
    }

    private static void becomeReady(ManagedSandbox sandbox, AgentClient agent) {
        if (!sandbox.ready(agent)) {
            agent.close();
            throw new BasaltException.WrongState("sandbox " + sandbox.id() + " was stopped while it was starting");
        }
    }

    private static void closeQuietly(AgentTransport transport) {
        if (transport != null) {
            try {
                transport.close();
            } catch (IOException ignored) {
                // already broken
            }
        }
    }

    private static Duration remaining(long deadline) {
        return Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime()));
    }
}
