package dev.basalt.core;

import dev.basalt.api.BasaltException;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.SnapshotInfo;
import dev.basalt.vmm.Boot;
import dev.basalt.vmm.Hypervisor;
import dev.basalt.vmm.MemoryBacking;
import dev.basalt.vmm.VmConfig;
import dev.basalt.vmm.VmHandle;
import dev.basalt.vmm.agent.AgentClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Checkpoint, restore and fork. The source is frozen (no operation in flight, the agent channel
 * at a frame boundary, vCPUs paused) while its state is written, then runs on; every new sandbox
 * gets a private copy of the saved RAM, so parent and children diverge independently — nothing
 * maps memory that a running VM still writes.
 */
final class SnapshotOps implements AutoCloseable {
    static final int MAX_FORK = 64;
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SnapshotOps.class);

    private final SandboxRegistry registry;
    private final SandboxBuilder builder;
    private final Disks disks;
    private final SnapshotCatalog catalog;
    private final Hypervisor hypervisor;
    private final Path forkDir;
    private final TemplateCompactor compactor;

    SnapshotOps(SandboxRegistry registry, SandboxBuilder builder, Disks disks, SnapshotCatalog catalog,
                Hypervisor hypervisor, Path shmDir) {
        this.registry = registry;
        this.builder = builder;
        this.disks = disks;
        this.catalog = catalog;
        this.hypervisor = hypervisor;
        this.forkDir = shmDir.resolve("forks");
        try {
            StateFiles.privateDirectory(forkDir);
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot create " + forkDir + ": " + e.getMessage(), e);
        }
        StateFiles.sweep(forkDir, "");   // fork states of a process killed while it forked
        this.compactor = new TemplateCompactor(shmDir.resolve("templates"), TemplateCompactor.QUIET);
    }

    SnapshotInfo checkpoint(String id, String name) {
        ManagedSandbox source = registry.get(id);
        checkShmRoom(source, false, "checkpointing");
        Path reserved = catalog.reserve(name);
        try {
            VmConfig frozen = saveFrozen(source, reserved.resolve(SnapshotCatalog.STATE), "checkpoint");
            SandboxSpec spec = source.spec();
            // the snapshot holds its own links to the disk layers as they were when it was taken
            VmConfig vm = Disks.keep(frozen, reserved.resolve("disk"));
            SnapshotInfo draft = new SnapshotInfo(name, id, spec.image(), GuestImage.identity(spec.image(), vm.boot()),
                    hypervisor.version(), spec.vcpus(), spec.memoryMib(), Instant.now(), 0, "");
            return catalog.publish(reserved, draft, vm, spec.network());
        } catch (RuntimeException e) {
            catalog.discard(reserved);
            throw e;
        }
    }

    SandboxInfo restore(String name, Map<String, String> labels) {
        SnapshotCatalog.Meta meta = catalog.get(name);
        if (!meta.vmmVersion().equals(hypervisor.version())) {
            throw new BasaltException.InvalidArgument("snapshot '" + name + "' was written by QEMU " + meta.vmmVersion()
                    + " but this host runs QEMU " + hypervisor.version() + ": states do not load across versions");
        }
        VmConfig vm = meta.config();
        Boot boot = vm.boot();
        boolean filesThere = Files.isRegularFile(boot.kernel()) && (boot.initrd() == null || Files.isRegularFile(boot.initrd()));
        if (!filesThere || !GuestImage.identity(meta.image(), boot).equals(meta.imageId())) {
            throw new BasaltException.InvalidArgument("snapshot '" + name + "' was taken on image '" + meta.image()
                    + "' (id " + meta.imageId() + ") whose kernel or initrd has changed or is gone since; "
                    + "restore needs the exact same files");
        }
        Path state = catalog.verifiedState(meta);
        SandboxSpec spec = SandboxSpec.defaults().withImage(meta.image()).withVcpus(meta.vcpus())
                .withMemoryMib(meta.memoryMib()).withLabels(labels).withNetwork(meta.network());
        HostResources.check(spec);
        return restoreOne(spec, vm, state, "snapshot:" + name).info();
    }

    List<SandboxInfo> fork(String id, int count) {
        if (count < 1 || count > MAX_FORK) {
            throw new BasaltException.InvalidArgument("fork count must be within 1.." + MAX_FORK + ", got " + count);
        }
        ManagedSandbox parent = registry.get(id);
        SandboxSpec spec = parent.spec();
        long needMib = (long) count * (spec.memoryMib() + HostResources.VMM_OVERHEAD_MIB);
        long available = HostResources.availableMib();
        if (available > 0 && needMib > available) {
            throw new BasaltException.ResourceExhausted("forking " + count + " children of " + spec.memoryMib()
                    + " MiB needs up to " + needMib + " MiB; the host has " + available + " MiB available");
        }
        checkShmRoom(parent, true, "forking");
        Path state = forkDir.resolve(id + "-" + SandboxIds.next() + StateFiles.tag() + ".state");
        try {
            long start = System.nanoTime();
            VmConfig frozen = saveFrozen(parent, state, "fork");
            long saved = System.nanoTime();
            // the children start from the chains frozen at the save; the parent writes a new top
            VmConfig chains = frozen;
            for (var disk : frozen.devices(dev.basalt.vmm.Device.Disk.class)) {
                chains = chains.withDevice(disk.withTop(null));
            }
            List<SandboxInfo> children = restoreMany(spec, chains, state, "fork:" + id, count);
            log.debug("fork of {}: state saved in {} ms ({} KiB), {} child(ren) ready in {} ms", id,
                    (saved - start) / 1_000_000, sizeKib(state), count, (System.nanoTime() - saved) / 1_000_000);
            return children;
        } finally {
            try {
                Files.deleteIfExists(state);
            } catch (IOException e) {
                // it lives on /dev/shm; reaped with the directory at the latest
            }
        }
    }

    /**
     * Freezes the disk of a READY sandbox at this instant and lets it run on: its chain (returned)
     * now ends in a read-only layer holding the disk as it is, and the VM writes a new top. What an
     * image build keeps after each step (the guest has synced first).
     */
    VmConfig freezeDisks(String id) {
        ManagedSandbox sandbox = registry.get(id);
        AgentClient agent = sandbox.freeze("freeze the disk of");
        try {
            agent.ping(Duration.ofSeconds(10));
            VmHandle vm = sandbox.vm();
            vm.pause();
            try {
                sandbox.reconfigure(disks.freeze(vm, sandbox.config(), disks.sandboxDir(id)));
                registry.persist(sandbox);
            } finally {
                vm.resume();
            }
            return sandbox.config();
        } catch (RuntimeException e) {
            throw AgentErrors.translate(e, sandbox, "freeze the disk of");
        } finally {
            sandbox.thaw();
        }
    }

    private static long sizeKib(Path file) {
        try {
            return Files.size(file) / 1024;
        } catch (IOException e) {
            return -1;
        }
    }

    /** Restores {@code count} sandboxes in parallel; if any fails, none is kept. */
    private List<SandboxInfo> restoreMany(SandboxSpec spec, VmConfig vm, Path state, String origin, int count) {
        List<Future<ManagedSandbox>> futures = new ArrayList<>();
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < count; i++) {
                futures.add(executor.submit(() -> restoreOne(spec, vm, state, origin)));
            }
        }
        List<ManagedSandbox> children = new ArrayList<>();
        RuntimeException failure = null;
        for (Future<ManagedSandbox> f : futures) {
            try {
                children.add(f.get());
            } catch (ExecutionException e) {
                failure = e.getCause() instanceof RuntimeException r ? r : new BasaltException.Internal(e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure = new BasaltException.Unavailable("interrupted while forking");
            }
        }
        if (failure != null) {
            children.forEach(registry::discard);
            throw failure;
        }
        return children.stream().map(ManagedSandbox::info).toList();
    }

    /** A new sandbox from {@code state}, its VM the saved one's {@code vm} with its own name in anonymous memory. */
    private ManagedSandbox restoreOne(SandboxSpec spec, VmConfig vm, Path state, String origin) {
        ManagedSandbox sandbox = registry.register(spec, id -> vm.withName(id).withMemory(new MemoryBacking.Anonymous()),
                origin);
        try {
            registry.attachDisks(sandbox, sandbox.config());
            builder.fromState(sandbox, state, spec.bootTimeout());
            return sandbox;
        } catch (RuntimeException e) {
            String reason = e.getMessage() + sandbox.diagnostics();
            registry.discard(sandbox);
            throw e instanceof BasaltException.InvalidArgument ? e
                    : new BasaltException.Unavailable("cannot restore sandbox " + sandbox.id() + " (" + origin + "): " + reason, e);
        }
    }

    /**
     * Refuses a save that could run the shm filesystem out of room: saving a template clone can grow
     * the template's file by what it does not hold yet, and a fork's state file lives there too. Run
     * out, and the VM reading the template dies of SIGBUS.
     */
    private void checkShmRoom(ManagedSandbox source, boolean stateInShm, String what) {
        VmHandle vm = source.vm();
        int memoryMib = source.spec().memoryMib();
        long baseMib = HostResources.SHM_MARGIN_MIB + (stateInShm ? memoryMib : 0);
        if (vm != null && vm.config().machine().memory() instanceof MemoryBacking.PrivateFile template) {
            HostResources.checkShmRoom(forkDir, baseMib + memoryMib,
                    () -> baseMib + HostResources.templateGrowthMib(template.path(), memoryMib), what + " sandbox " + source.id());
        } else {
            HostResources.checkShmRoom(forkDir, baseMib, what + " sandbox " + source.id());
        }
    }

    /**
     * Freezes the sandbox, makes sure the guest has read everything, freezes its disks (the VM
     * paused: memory and disk captured at one instant), saves its state, lets it run on. Returns the
     * sandbox's config after the save: its disks' chains end in the layers frozen for the save.
     */
    private VmConfig saveFrozen(ManagedSandbox sandbox, Path file, String what) {
        AgentClient agent = sandbox.freeze(what);
        try {
            agent.ping(Duration.ofSeconds(10));
            VmHandle vm = sandbox.vm();
            agent.guestPaused(true);
            try {
                if (!vm.config().devices(dev.basalt.vmm.Device.Disk.class).isEmpty()) {
                    vm.pause();
                    sandbox.reconfigure(disks.freeze(vm, sandbox.config(), disks.sandboxDir(sandbox.id())));
                    registry.persist(sandbox);
                }
                vm.saveState(file);
                CrashPoint.reach(what + "-saved");
            } finally {
                vm.resume();
                agent.guestPaused(false);
                if (vm.config().machine().memory() instanceof MemoryBacking.PrivateFile template) {
                    compactor.afterSave(template.path());   // the save read the template's holes in
                }
            }
        } catch (RuntimeException e) {
            throw AgentErrors.translate(e, sandbox, what);
        } finally {
            sandbox.thaw();
        }
        return sandbox.config();
    }

    /** Gives back, now, the template memory that saves still have to give back. */
    @Override
    public void close() {
        compactor.close();
    }
}
