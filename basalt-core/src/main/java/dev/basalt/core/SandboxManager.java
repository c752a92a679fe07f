package dev.basalt.core;

import dev.basalt.api.BasaltException;
import dev.basalt.api.EventFilter;
import dev.basalt.api.SandboxEvent;
import dev.basalt.api.ExecOutput;
import dev.basalt.api.ExecProcess;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.ExecResult;
import dev.basalt.api.FileInfo;
import dev.basalt.api.NetworkPolicy;
import dev.basalt.api.NetworkStats;
import dev.basalt.api.PortForward;
import dev.basalt.api.PoolStats;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.SandboxState;
import dev.basalt.api.Sandboxes;
import dev.basalt.api.SnapshotInfo;
import dev.basalt.vmm.Hypervisor;
import dev.basalt.vmm.Hypervisors;
import dev.basalt.vmm.LaunchPolicy;
import dev.basalt.vmm.MemoryBacking;
import dev.basalt.image.ImageService;
import dev.basalt.vmm.VmConfig;
import dev.basalt.vmm.VmHandle;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embeddable core: implements {@link Sandboxes} over a {@link Hypervisor}. Thread-safe; any
 * number of sandboxes and operations at once. Close it (try-with-resources) to remove every
 * sandbox it created; if the process dies instead, the VMs die with it and the next manager
 * cleans up their directories.
 */
public final class SandboxManager implements Sandboxes {
    private static final Logger log = LoggerFactory.getLogger(SandboxManager.class);
    private static final Duration REMOVE_GRACE = Duration.ofSeconds(2);

    private final ManagerConfig config;
    private final Hypervisor hypervisor;
    private final ImageCatalog images;
    private final ImageService imageService;
    private final Disks disks;
    private final RunRoot runRoot;
    private final SandboxCgroups cgroups;
    private final SandboxBuilder builder;
    private final TemplateCache templates;
    private final SnapshotCatalog snapshotCatalog;
    private final SnapshotOps snapshots;
    private final PauseOps pauses;
    private final PoolSet pools;
    private final Limits limits;
    private final GuestOperations guest;
    private final Internals internals = new Internals();
    private final Map<String, ManagedSandbox> sandboxes = new ConcurrentHashMap<>();
    private final ExecDefaults execDefaults;
    private final ManagedImages managedImages;
    private final EventBus events = new EventBus();
    private final SandboxStore store;
    private final SandboxNetwork network;
    private final NetworkOps networks;
    private final Expiry expiry = new Expiry(this::expire);
    /** The background take-over of a restarted daemon's sandboxes, or null. */
    private volatile Thread reattaching;
    private volatile boolean closed;

    /**
     * @throws BasaltException.ResourceExhausted if the configured pools cannot fit in memory
     */
    public SandboxManager(ManagerConfig config, Hypervisor hypervisor) {
        this.config = config;
        this.hypervisor = hypervisor;
        this.imageService = ImageService.open(config.imageStoreDir());
        this.images = new ImageCatalog(config.imagesDir(), imageService);
        this.disks = new Disks(config.disksDir());
        this.execDefaults = new ExecDefaults(imageService.store());
        this.managedImages = new ManagedImages(imageService, new ImageBuilder(new BuildPort(), imageService,
                config.stateDir().resolve("build-cache")));
        this.runRoot = new RunRoot(config.runRoot());
        this.cgroups = SandboxCgroups.detect(config.containment().cgroups());
        this.builder = new SandboxBuilder(hypervisor, runRoot, (config.vmsDieWithManager()
                ? LaunchPolicy.diesWithParent() : LaunchPolicy.outlivesParent()).confined(config.containment().confinement())
                        .withSeccomp(config.containment().seccomp()),
                cgroups);
        this.network = new SandboxNetwork(config.network());
        this.templates = new TemplateCache(config.shmDir(), disks, hypervisor, runRoot, builder, network);
        this.snapshotCatalog = new SnapshotCatalog(config.snapshotsDir());
        this.snapshots = new SnapshotOps(internals, builder, disks, snapshotCatalog, hypervisor, config.shmDir());
        this.pauses = new PauseOps(internals, builder, hypervisor, runRoot, config.stateDir().resolve("paused"));
        this.guest = new GuestOperations(internals, new GuestFiles(config.operationTimeout()),
                new ExecRunner(config.maxOutputBytes()));
        this.limits = new Limits(config.maxSandboxes(), config.maxMemoryMib());
        this.store = config.vmsDieWithManager() ? null : SandboxStore.open(config.stateDir());
        this.networks = new NetworkOps(network, store);
        reattachAll();
        this.pools = new PoolSet(config.pools(), images, templates,
                new PoolFactory(templates, disks, runRoot, hypervisor, builder, internals));
    }

    /**
     * A daemon ({@code vmsDieWithManager = false}) records its sandboxes and, when it starts again,
     * takes over the VMs that survived it; an embedded manager only cleans up after dead owners.
     * The recorded sandboxes are listed at once and taken over in the background (operations on
     * one wait until it is done), so a restarted daemon serves at once. A sandbox that was still
     * being created when the last daemon died is rolled back: its VM killed, its directory and
     * record deleted (its create never returned).
     */
    private void reattachAll() {
        if (store == null) {
            runRoot.reapOrphans();
            cgroups.sweep(java.util.Set.of());
            reapDisks(java.util.Set.of());
            return;
        }
        long start = System.nanoTime();
        var rows = store.loadAll();
        var kept = rows.stream().filter(r -> r.state() != dev.basalt.api.SandboxState.STARTING).toList();
        List<Runnable> takeOvers = new java.util.ArrayList<>();
        takeOvers.add(() -> {   // VMs of unrecorded dirs (pools, template builds) and of half-made sandboxes
            var keep = kept.stream().map(SandboxStore.Row::id).collect(java.util.stream.Collectors.toSet());
            // a paused sandbox has no VM: one whose pause the dead daemon did not finish (state saved and
            // recorded, VM not yet ended) leaves a VMM and a run directory to end here, not to keep
            var running = kept.stream().filter(r -> r.state() != dev.basalt.api.SandboxState.PAUSED)
                    .map(SandboxStore.Row::id).collect(java.util.stream.Collectors.toSet());
            runRoot.reapOrphans(running);
            cgroups.sweep(running);
            reapDisks(keep);
            for (var row : rows) {
                if (row.state() == dev.basalt.api.SandboxState.STARTING) {
                    store.delete(row.id());
                    log.info("sandbox {} ({}) was still being created when basaltd stopped: rolled back", row.id(),
                            row.stored().origin());
                }
            }
        });
        Reattacher reattacher = new Reattacher(hypervisor, runRoot, cgroups);
        for (var row : kept) {
            ManagedSandbox sandbox = reattacher.placeholder(row, this::onEvent);
            sandboxes.put(sandbox.id(), sandbox);
            if (row.expiresAt() != null && !row.state().isTerminal()) {
                sandbox.expireAt(row.expiresAt());
                expiry.schedule(sandbox.id(), row.expiresAt());
            }
            takeOvers.add(() -> {
                reattacher.reattach(sandbox, row);
                networks.afterTakeOver(sandbox);
                store.save(sandbox);
                if (sandbox.state() == dev.basalt.api.SandboxState.STOPPING) {
                    sandbox.stop(REMOVE_GRACE);
                }
            });
        }
        // slots, policies and port forwards come back at once (from the records), so that no new sandbox
        // is given a slot a sandbox being taken over still owns; proxies need the agent: after the take-over
        networks.reattach(kept, sandboxes::get);
        reattaching = Thread.ofVirtual().name("reattach").start(() -> {
            try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
                takeOvers.forEach(executor::submit);
            }
            if (!kept.isEmpty()) {
                log.info("reattached {} sandbox(es) in {} ms", kept.size(), (System.nanoTime() - start) / 1_000_000);
            }
        });
    }

    /**
     * Waits until every sandbox recorded by the previous run of a daemon has been taken over (or
     * failed, saying why); returns false if {@code timeout} passed first. Returns at once for an
     * embedded manager or a daemon that had nothing to take over. Allowed at any time.
     */
    public boolean awaitReattached(Duration timeout) {
        Thread t = reattaching;
        if (t == null) {
            return true;
        }
        try {
            return t.join(timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Deletes disk files that no sandbox or template owns (what a manager killed with SIGKILL left):
     * a sandbox's once its run directory is gone (reaped above, or never made) and no record names
     * it, a template's once its memory is gone from the shm directory.
     */
    private void reapDisks(java.util.Set<String> recorded) {
        disks.reap(id -> recorded.contains(id) || Files.exists(config.runRoot().resolve(id))
                        || Files.exists(config.stateDir().resolve("paused").resolve(id)),
                name -> name.startsWith(".") || Files.isDirectory(config.shmDir().resolve("templates").resolve(name)));
    }

    /** The image store: list, inspect, remove, pull, import, build; the shipped {@code base}. */
    public ManagedImages images() {
        return managedImages;
    }

    /** The manager as {@link ImageBuilder} sees it: sandboxes on arbitrary disk chains, raw execs, live disk freezes. */
    private final class BuildPort implements BuildSandboxes {
        @Override
        public GuestImage resolve(SandboxSpec spec) {
            return images.resolve(spec);
        }

        @Override
        public SandboxInfo createOnChain(SandboxSpec spec, GuestImage image, dev.basalt.vmm.Device.Disk chain) {
            ensureOpen();
            HostResources.checkCpus(spec);
            HostResources.check(spec);
            ManagedSandbox sandbox = internals.register(spec, id -> image.vmConfig(id, spec, new MemoryBacking.Anonymous())
                    .withDevice(chain), "build");
            build(sandbox, () -> {
                internals.attachDisks(sandbox, sandbox.config());
                builder.forBoot(sandbox);
            }, "failed to boot");
            return sandbox.info();
        }

        @Override
        public ExecResult execAsIs(String id, ExecRequest request, ExecOutput output) {
            return guest.exec(id, request, output);
        }

        @Override
        public ExecResult exec(String id, ExecRequest request) {
            return SandboxManager.this.exec(id, request);
        }

        @Override
        public VmConfig freezeDisks(String id) {
            ensureOpen();
            return snapshots.freezeDisks(id);
        }

        @Override
        public void mkdir(String id, String path) {
            SandboxManager.this.mkdir(id, path);
        }

        @Override
        public void writeFile(String id, String path, InputStream data, int mode) {
            SandboxManager.this.writeFile(id, path, data, mode);
        }

        @Override
        public void remove(String id) {
            SandboxManager.this.remove(id);
        }
    }

    /** Every lifecycle event: recorded durably first (daemon), then published to subscribers. */
    private void onEvent(SandboxEvent event) {
        if (event.kind() == SandboxEvent.Kind.FAILED || event.kind() == SandboxEvent.Kind.STOPPED) {
            network.detach(event.sandboxId());     // its VM is gone: its slot goes back, clean
        }
        if (event.kind() == SandboxEvent.Kind.READY) {
            ManagedSandbox ready = sandboxes.get(event.sandboxId());
            if (ready != null && !ready.reattaching()) {   // a take-over calls networks.afterTakeOver
                networks.ready(ready);
            }
        }
        if (event.kind() == SandboxEvent.Kind.RESUMED) {
            ManagedSandbox resumed = sandboxes.get(event.sandboxId());
            if (resumed != null) {
                networks.resumed(resumed);
            }
        }
        if (store != null) {
            if (event.kind() == SandboxEvent.Kind.REMOVED) {
                store.delete(event.sandboxId());
            } else {
                ManagedSandbox sandbox = sandboxes.get(event.sandboxId());
                if (sandbox != null) {
                    store.save(sandbox);
                }
            }
        }
        events.publish(event);
    }

    /**
     * Hears every DNS question and proxied connection a networked sandbox was refused (they are also
     * logged with the sandbox id); called on the refusing thread, must not block. Basaltd counts
     * them into its metrics.
     */
    public void addDenialListener(dev.basalt.net.DenialListener listener) {
        network.addDenialListener(listener);
    }

    /** A manager with default settings on the QEMU backend. */
    public static SandboxManager create() {
        return new SandboxManager(ManagerConfig.defaults(), Hypervisors.detect());
    }

    /** The templates in this manager's shm directory (shared with other managers using it). */
    @Override
    public List<dev.basalt.api.TemplateInfo> templates() {
        ensureOpen();
        return templates.list();
    }

    @Override
    public List<dev.basalt.api.TemplateInfo> pruneTemplates() {
        ensureOpen();
        return templates.prune();
    }

    /** The accelerator every VM of this manager runs on ("kvm" or "tcg"). */
    public String accel() {
        return hypervisor.accel().id();
    }

    /**
     * Creates a sandbox: from the warm pool if one waits, else as a clone of the image's template
     * (booting the template first if this is the image's first use), else — with a kernel/initrd
     * override or {@code coldBoot} — by booting the kernel.
     */
    @Override
    public SandboxInfo create(SandboxSpec spec) {
        return create(spec, true);
    }

    @Override
    public SandboxInfo createAsync(SandboxSpec spec) {
        return create(spec, false);
    }

    private SandboxInfo create(SandboxSpec spec, boolean wait) {
        ensureOpen();
        config.containment().checkBootFile(spec.kernel(), "kernel");
        config.containment().checkBootFile(spec.initrd(), "initrd");
        GuestImage image = images.resolve(spec);
        HostResources.checkCpus(spec);
        ManagedSandbox sandbox;
        Runnable recipe;
        String what;
        if (!spec.usesTemplate()) {
            HostResources.check(spec);
            sandbox = internals.register(spec, id -> image.vmConfig(id, spec, new MemoryBacking.Anonymous()), "boot");
            recipe = () -> {
                internals.attachDisks(sandbox, sandbox.config());
                builder.forBoot(sandbox);
            };
            what = "failed to boot";
        } else {
            TemplateKey templateKey = templates.key(image, spec);
            Template template = templates.location(templateKey);
            String key = template.name();
            var warm = pools.takeWarm(key);
            if (warm.isPresent()) {
                ManagedSandbox taken = warm.get();
                taken.vm().toForeground();
                taken.respec(spec);
                internals.admit(taken);
                taken.emit(SandboxEvent.Kind.READY, taken.info().origin());
                return taken.info();
            }
            Standby standby = pools.takeStandby(key).orElse(null);
            if (standby == null) {
                HostResources.check(spec);
            }
            sandbox = standby == null
                    ? internals.register(spec, template::cloneConfig, "template:" + key)
                    : internals.adoptStandby(standby, spec, "template:" + key);
            recipe = standby != null ? () -> builder.fromStandby(sandbox, standby) : () -> {
                Template made = templates.get(templateKey);
                internals.attachDisks(sandbox, made.cloneConfig(sandbox.id()));
                builder.fromTemplate(sandbox, made, false);
            };
            what = "failed to start from its template";
        }
        if (wait) {
            build(sandbox, recipe, what);
        } else {
            Thread.ofVirtual().name("create-" + sandbox.id()).start(() -> buildInBackground(sandbox, recipe, what));
        }
        return sandbox.info();
    }

    /** An asynchronous create: a failure leaves the sandbox FAILED with the reason (its id is known). */
    private void buildInBackground(ManagedSandbox sandbox, Runnable recipe, String what) {
        try {
            recipe.run();
        } catch (RuntimeException e) {
            sandbox.fail(what + ": " + e.getMessage() + sandbox.diagnostics());
            if (sandbox.vm() != null) {
                sandbox.vm().kill();
            }
        }
    }


    /** Runs a build recipe; a failure leaves nothing behind and says why, with QEMU's and the console's words. */
    private void build(ManagedSandbox sandbox, Runnable recipe, String what) {
        try {
            recipe.run();
            log.info("sandbox {} ready ({}, {} vCPU, {} MiB, {})", sandbox.id(), sandbox.info().origin(),
                    sandbox.spec().vcpus(), sandbox.spec().memoryMib(), accel());
        } catch (RuntimeException e) {
            String reason = sandbox.info().failure().orElse(e.getMessage()) + sandbox.diagnostics();
            internals.discard(sandbox);
            if (e instanceof BasaltException.InvalidArgument || e instanceof BasaltException.ResourceExhausted) {
                throw e;
            }
            throw new BasaltException.Unavailable("sandbox " + sandbox.id() + " " + what + ": " + reason, e);
        }
    }

    @Override
    public SandboxInfo inspect(String id) {
        return get(id).info();
    }

    @Override
    public List<SandboxInfo> list() {
        return sandboxes.values().stream().map(ManagedSandbox::info)
                .sorted(Comparator.comparing(SandboxInfo::createdAt)).toList();
    }

    @Override
    public Duration ping(String id, Duration timeout) {
        return guest.ping(id, timeout);
    }

    @Override
    public ExecResult exec(String id, ExecRequest request) {
        return guest.exec(id, networks.withProxyEnv(sandboxes.get(id), execDefaults.apply(id, get(id).spec().image(), request)));
    }

    @Override
    public ExecResult exec(String id, ExecRequest request, ExecOutput output) {
        return guest.exec(id, networks.withProxyEnv(sandboxes.get(id), execDefaults.apply(id, get(id).spec().image(), request)),
                output);
    }

    @Override
    public ExecProcess start(String id, ExecRequest request, ExecOutput output) {
        return guest.start(id, networks.withProxyEnv(sandboxes.get(id), execDefaults.apply(id, get(id).spec().image(), request)),
                output);
    }

    @Override
    public void writeFile(String id, String path, InputStream data, int mode) {
        guest.writeFile(id, path, data, mode, null);
    }

    @Override
    public void writeFile(String id, String path, InputStream data, int mode, dev.basalt.api.GuestUser owner) {
        guest.writeFile(id, path, data, mode, owner);
    }

    @Override
    public FileInfo readFile(String id, String path, OutputStream sink) {
        return guest.readFile(id, path, sink);
    }

    @Override
    public FileInfo stat(String id, String path) {
        return guest.stat(id, path);
    }

    @Override
    public List<FileInfo> listFiles(String id, String path) {
        return guest.listFiles(id, path);
    }

    @Override
    public void mkdir(String id, String path) {
        guest.mkdir(id, path, null);
    }

    @Override
    public void mkdir(String id, String path, dev.basalt.api.GuestUser owner) {
        guest.mkdir(id, path, owner);
    }

    @Override
    public void removeFile(String id, String path, boolean recursive) {
        guest.removeFile(id, path, recursive);
    }

    @Override
    public void rename(String id, String from, String to) {
        guest.rename(id, from, to);
    }

    @Override
    public SnapshotInfo checkpoint(String id, String snapshotName) {
        ensureOpen();
        return snapshots.checkpoint(id, snapshotName);
    }

    @Override
    public SandboxInfo restore(String snapshotName, Map<String, String> labels) {
        ensureOpen();
        return snapshots.restore(snapshotName, labels);
    }

    @Override
    public List<SandboxInfo> fork(String id, int count) {
        ensureOpen();
        return snapshots.fork(id, count);
    }

    @Override
    public SandboxInfo pause(String id) {
        ensureOpen();
        return pauses.pause(id);
    }

    @Override
    public SandboxInfo resume(String id) {
        ensureOpen();
        awaitReattached(Duration.ofSeconds(30));   // a restarted daemon first ends what an unfinished pause left running
        return pauses.resume(id);
    }

    @Override
    public List<SnapshotInfo> snapshots() {
        return snapshotCatalog.list();
    }

    @Override
    public void deleteSnapshot(String snapshotName) {
        snapshotCatalog.delete(snapshotName);
    }

    @Override
    public List<PoolStats> pools() {
        return pools.stats();
    }

    @Override
    public AutoCloseable subscribe(EventFilter filter, Consumer<SandboxEvent> listener) {
        return events.subscribe(filter, listener);
    }

    @Override
    public SandboxInfo setTtl(String id, Duration ttl) {
        if (ttl == null || ttl.isNegative() || ttl.isZero() || ttl.compareTo(SandboxSpec.MAX_TTL) > 0) {
            throw new BasaltException.InvalidArgument("ttl must be between 1 ms and " + SandboxSpec.MAX_TTL.toDays()
                    + " days, got " + ttl);
        }
        ManagedSandbox sandbox = get(id);
        armTtl(sandbox, ttl);
        return sandbox.info();
    }

    @Override
    public void setNetworkPolicy(String id, NetworkPolicy policy) {
        networks.setPolicy(get(id), policy);
    }

    @Override
    public PortForward forwardPort(String id, int guestPort, int hostPort) {
        return networks.forwardPort(get(id), guestPort, hostPort);
    }

    @Override
    public void unforwardPort(String id, int guestPort) {
        networks.unforwardPort(get(id), guestPort);
    }

    @Override
    public List<PortForward> portForwards(String id) {
        return network.portForwards(get(id).id());
    }

    @Override
    public NetworkStats networkStats(String id) {
        return network.stats(get(id).id());
    }

    private void armTtl(ManagedSandbox sandbox, Duration ttl) {
        Instant when = Instant.now().plus(ttl);
        sandbox.expireAt(when);
        expiry.schedule(sandbox.id(), when);
    }

    /** Called by {@link Expiry} when a sandbox's time is up. */
    private void expire(String id) {
        ManagedSandbox sandbox = sandboxes.get(id);
        if (sandbox == null || closed) {
            return;
        }
        log.info("sandbox {} reached its time to live: removing it", id);
        sandbox.emit(SandboxEvent.Kind.EXPIRED, "");
        try {
            remove(id);
        } catch (BasaltException e) {
            log.debug("expired sandbox {} was already gone: {}", id, e.getMessage());
        }
    }

    @Override
    public String consoleLog(String id, int maxBytes) {
        if (maxBytes <= 0) {
            throw new BasaltException.InvalidArgument("maxBytes must be positive, got " + maxBytes);
        }
        return get(id).consoleTail(maxBytes);
    }

    @Override
    public SandboxInfo stop(String id, Duration grace) {
        ManagedSandbox sandbox = get(id);
        sandbox.stop(grace);
        return sandbox.info();
    }

    @Override
    public void remove(String id) {
        ManagedSandbox sandbox = get(id);
        sandbox.stop(REMOVE_GRACE);
        internals.discard(sandbox);
        log.info("sandbox {} removed", id);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        expiry.close();
        pools.close();
        if (store != null) {
            awaitReattached(Duration.ofSeconds(30));
            detachAll();
            snapshots.close();
            network.close(true);
            return;
        }
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (ManagedSandbox sandbox : List.copyOf(sandboxes.values())) {
                executor.submit(() -> {
                    try {
                        sandbox.stop(Duration.ofMillis(500));
                    } finally {
                        internals.discard(sandbox);
                    }
                });
            }
        }
        snapshots.close();
        network.close();
        events.close();
    }

    /** Daemon shutdown: the VMs keep running for the next start; only the connections to them close. */
    private void detachAll() {
        for (ManagedSandbox sandbox : sandboxes.values()) {
            sandbox.detach();
        }
        events.close();
        store.close();
        log.info("detached from {} sandbox(es); they keep running", sandboxes.size());
    }

    /** The manager's side of the seams to {@link SnapshotOps} and {@link PoolSet}, kept off its public API. */
    private final class Internals implements SandboxRegistry {
        @Override
        public ManagedSandbox get(String id) {
            return SandboxManager.this.get(id);
        }

        @Override
        public ManagedSandbox register(SandboxSpec spec, java.util.function.Function<String, VmConfig> config, String origin) {
            String id = SandboxIds.next();
            VmConfig vmConfig = config.apply(id);
            Path ns = null;
            if (SandboxNetwork.hasNic(vmConfig)) {
                // a restored snapshot does not know its source's policy: it reaches nothing until it is given one
                ns = network.attach(id, spec.network().mode().hasNic() ? spec.network() : SandboxNetwork.NOTHING);
            }
            try {
                ManagedSandbox sandbox = new ManagedSandbox(id, spec, vmConfig, runRoot.create(id), hypervisor, origin,
                        SandboxManager.this::onEvent);
                sandbox.networkNamespace(ns);
                return admit(sandbox);
            } catch (RuntimeException e) {
                network.detach(id);
                throw e;
            }
        }

        @Override
        public void attachDisks(ManagedSandbox sandbox, VmConfig config) {
            // the run directory exists already: a disk directory without one is garbage to the reaper
            sandbox.reconfigure(disks.attach(sandbox.id(), config));
        }

        @Override
        public void persist(ManagedSandbox sandbox) {
            if (store != null) {
                store.save(sandbox);
            }
        }

        ManagedSandbox adoptStandby(Standby standby, SandboxSpec spec, String origin) {
            return admit(new ManagedSandbox(standby.id(), spec, standby.vm().config(), standby.dir(), hypervisor, origin,
                    SandboxManager.this::onEvent));
        }

        /** Makes a sandbox visible: checks the limits, lists it, announces it, arms its TTL. */
        ManagedSandbox admit(ManagedSandbox sandbox) {
            synchronized (sandboxes) {
                try {
                    limits.check(sandboxes.values(), sandbox.spec());
                } catch (BasaltException e) {
                    sandbox.retire();
                    if (sandbox.vm() != null) {
                        sandbox.vm().kill();
                    }
                    disks.delete(sandbox.id());
                    runRoot.delete(sandbox.dir());
                    throw e;
                }
                sandboxes.put(sandbox.id(), sandbox);
            }
            sandbox.publishTo(SandboxManager.this::onEvent);
            sandbox.emit(SandboxEvent.Kind.CREATED, sandbox.info().origin());
            Duration ttl = sandbox.spec().ttl();
            if (ttl != null) {
                armTtl(sandbox, ttl);
            }
            return sandbox;
        }

        @Override
        public void discard(ManagedSandbox sandbox) {
            sandbox.retire();
            VmHandle vm = sandbox.vm();
            if (vm != null) {
                vm.kill();
            }
            network.detach(sandbox.id());
            disks.delete(sandbox.id());
            runRoot.delete(sandbox.dir());
            execDefaults.forget(sandbox.id());
            expiry.cancel(sandbox.id());
            if (sandboxes.remove(sandbox.id(), sandbox)) {
                pauses.forget(sandbox.id());
                sandbox.emit(SandboxEvent.Kind.REMOVED, "");
            }
        }

        @Override
        public ManagedSandbox successor(ManagedSandbox paused, VmConfig vmConfig) {
            SandboxInfo info = paused.info();
            ManagedSandbox fresh = new ManagedSandbox(paused.id(), paused.spec(), vmConfig, runRoot.create(paused.id()),
                    hypervisor, info.origin(), event -> { });
            fresh.restoreRecord(info.createdAt(), info.readyAt().orElse(null), SandboxState.STARTING, null);
            fresh.portForwards(paused.portForwards());
            if (SandboxNetwork.hasNic(vmConfig)) {
                network.detach(paused.id());   // a slot recorded by a daemon that died while it paused the sandbox
                try {
                    fresh.networkNamespace(network.attach(paused.id(), networks.nicPolicy(paused.spec())));
                } catch (RuntimeException e) {
                    fresh.retire();
                    runRoot.delete(fresh.dir());
                    throw e;
                }
            }
            return fresh;
        }

        @Override
        public void abandon(ManagedSandbox successor) {
            successor.retire();
            if (successor.vm() != null) {
                successor.vm().kill();
                successor.vm().awaitExit(Duration.ofSeconds(10));
            }
            if (successor.networkNamespace() != null) {
                network.detach(successor.id());
            }
            runRoot.delete(successor.dir());
        }

        @Override
        public void releaseNetwork(ManagedSandbox paused) {
            if (paused.networkNamespace() != null) {
                network.detach(paused.id());
                paused.networkNamespace(null);
                persist(paused);
            }
        }

        @Override
        public void replace(ManagedSandbox old, ManagedSandbox fresh, SandboxEvent.Kind kind) {
            if (!sandboxes.replace(old.id(), old, fresh)) {
                fresh.retire();
                if (fresh.vm() != null) {
                    fresh.vm().kill();
                }
                runRoot.delete(fresh.dir());
                throw new BasaltException.WrongState("sandbox " + old.id() + " was removed while it was being resumed");
            }
            fresh.publishTo(SandboxManager.this::onEvent);
            fresh.emit(kind, "");
        }

    }

    private ManagedSandbox get(String id) {
        if (id == null || id.isBlank()) {
            throw new BasaltException.InvalidArgument("sandbox id is empty");
        }
        ManagedSandbox sandbox = sandboxes.get(id);
        if (sandbox == null) {
            throw new BasaltException.NotFound("no sandbox with id '" + id + "' (list them with `basalt ls`)");
        }
        return sandbox;
    }

    private void ensureOpen() {
        if (closed) {
            throw new BasaltException.WrongState("the sandbox manager is closed");
        }
    }
}
