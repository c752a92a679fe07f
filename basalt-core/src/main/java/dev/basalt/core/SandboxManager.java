package dev.basalt.core;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecOutput;
import dev.basalt.api.ExecProcess;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.ExecResult;
import dev.basalt.api.FileInfo;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.Sandboxes;
import dev.basalt.vmm.Hypervisor;
import dev.basalt.vmm.VmHandle;
import dev.basalt.vmm.VmSpec;
import dev.basalt.vmm.agent.AgentClient;
import dev.basalt.vmm.agent.UnixSocketTransport;
import dev.basalt.vmm.qemu.QemuHypervisor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.function.Function;
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
    private final RunRoot runRoot;
    private final GuestFiles files;
    private final ExecRunner execs;
    private final Map<String, ManagedSandbox> sandboxes = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public SandboxManager(ManagerConfig config, Hypervisor hypervisor) {
        this.config = config;
        this.hypervisor = hypervisor;
        this.images = new ImageCatalog(config.imagesDir());
        this.runRoot = new RunRoot(config.runRoot());
        this.files = new GuestFiles(config.operationTimeout());
        this.execs = new ExecRunner(config.maxOutputBytes());
        runRoot.reapOrphans();
    }

    /** A manager with default settings on the QEMU backend. */
    public static SandboxManager create() {
        return new SandboxManager(ManagerConfig.defaults(), QemuHypervisor.detect());
    }

    /** The accelerator every VM of this manager runs on ("kvm" or "tcg"). */
    public String accel() {
        return hypervisor.accel().id();
    }

    @Override
    public SandboxInfo create(SandboxSpec spec) {
        ensureOpen();
        GuestImage image = images.resolve(spec);
        HostResources.check(spec);
        String id = SandboxIds.next();
        ManagedSandbox sandbox = new ManagedSandbox(id, spec, runRoot.create(id), hypervisor.accel().id());
        sandboxes.put(id, sandbox);
        try {
            boot(sandbox, image, spec);
            log.info("sandbox {} ready ({} vCPU, {} MiB, {})", id, spec.vcpus(), spec.memoryMib(), accel());
            return sandbox.info();
        } catch (RuntimeException e) {
            // A create that failed leaves nothing behind: no process, no directory, no entry.
            String reason = sandbox.info().failure().orElse(e.getMessage()) + sandbox.diagnostics();
            discard(sandbox);
            if (e instanceof BasaltException.InvalidArgument || e instanceof BasaltException.ResourceExhausted) {
                throw e;
            }
            throw new BasaltException.Unavailable("sandbox " + id + " failed to boot: " + reason, e);
        }
    }

    private void boot(ManagedSandbox sandbox, GuestImage image, SandboxSpec spec) {
        long deadline = System.nanoTime() + spec.bootTimeout().toNanos();
        VmHandle vm = hypervisor.launch(new VmSpec(sandbox.id(), image.kernel(), image.initrd(),
                image.cmdlineExtra(), spec.vcpus(), spec.memoryMib(), image.acpi(), sandbox.dir(),
                config.vmsDieWithManager()));
        sandbox.attach(vm);
        runRoot.recordVmm(sandbox.dir(), vm.pid());
        vm.exited().thenAccept(sandbox::onVmExit);
        Duration remaining = Duration.ofNanos(Math.max(1, deadline - System.nanoTime()));
        AgentClient agent;
        try {
            agent = AgentClient.connect(UnixSocketTransport.connect(vm.spec().agentSocket(), remaining), remaining);
        } catch (IOException | RuntimeException e) {
            String why = vm.isAlive() ? "the guest agent did not answer within " + spec.bootTimeout().toSeconds() + " s"
                    : "the VM exited during boot";
            throw new BasaltException.Unavailable(why + ": " + e.getMessage(), e);
        }
        if (!sandbox.ready(agent)) {
            agent.close();
            throw new BasaltException.WrongState("sandbox " + sandbox.id() + " was stopped while it was starting");
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
        return guest(id, "ping", agent -> agent.ping(timeout));
    }

    @Override
    public ExecResult exec(String id, ExecRequest request) {
        return withExec(id, request, agent -> execs.runBuffered(agent, request));
    }

    @Override
    public ExecResult exec(String id, ExecRequest request, ExecOutput output) {
        return withExec(id, request, agent -> execs.runStreaming(agent, request, output));
    }

    @Override
    public ExecProcess start(String id, ExecRequest request, ExecOutput output) {
        ManagedSandbox sandbox = get(id);
        AgentClient agent = sandbox.acquire("exec " + request.argv().getFirst(), true);
        try {
            return execs.start(agent, request, output, () -> sandbox.release(true));
        } catch (RuntimeException e) {
            sandbox.release(true);
            throw AgentErrors.translate(e, sandbox, "exec " + request.argv().getFirst());
        }
    }

    private ExecResult withExec(String id, ExecRequest request, Function<AgentClient, ExecResult> body) {
        ManagedSandbox sandbox = get(id);
        String what = "exec " + request.argv().getFirst();
        AgentClient agent = sandbox.acquire(what, true);
        try {
            return body.apply(agent);
        } catch (RuntimeException e) {
            throw AgentErrors.translate(e, sandbox, what);
        } finally {
            sandbox.release(true);
        }
    }

    @Override
    public void writeFile(String id, String path, InputStream data, int mode) {
        String p = GuestPaths.require(path);
        guest(id, "write " + p, agent -> {
            files.write(agent, p, data, mode);
            return null;
        });
    }

    @Override
    public FileInfo readFile(String id, String path, OutputStream sink) {
        String p = GuestPaths.require(path);
        return guest(id, "read " + p, agent -> files.read(agent, p, sink));
    }

    @Override
    public FileInfo stat(String id, String path) {
        String p = GuestPaths.require(path);
        return guest(id, "stat " + p, agent -> files.stat(agent, p));
    }

    @Override
    public List<FileInfo> listFiles(String id, String path) {
        String p = GuestPaths.require(path);
        return guest(id, "list " + p, agent -> files.list(agent, p));
    }

    @Override
    public void mkdir(String id, String path) {
        String p = GuestPaths.require(path);
        guest(id, "mkdir " + p, agent -> {
            files.mkdir(agent, p);
            return null;
        });
    }

    @Override
    public void removeFile(String id, String path, boolean recursive) {
        String p = GuestPaths.require(path);
        if (p.equals("/") || p.matches("/+")) {
            throw new BasaltException.InvalidArgument("refusing to remove the guest's root directory");
        }
        guest(id, "remove " + p, agent -> {
            files.remove(agent, p, recursive);
            return null;
        });
    }

    @Override
    public void rename(String id, String from, String to) {
        String f = GuestPaths.require(from);
        String t = GuestPaths.require(to);
        guest(id, "rename " + f, agent -> {
            files.rename(agent, f, t);
            return null;
        });
    }

    private <T> T guest(String id, String what, Function<AgentClient, T> body) {
        ManagedSandbox sandbox = get(id);
        AgentClient agent = sandbox.acquire(what, false);
        try {
            return body.apply(agent);
        } catch (RuntimeException e) {
            throw AgentErrors.translate(e, sandbox, what);
        } finally {
            sandbox.release(false);
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
        stop(sandbox, grace);
        return sandbox.info();
    }

    private static void stop(ManagedSandbox sandbox, Duration grace) {
        var agent = sandbox.beginStop();
        VmHandle vm = sandbox.vm();
        agent.ifPresent(a -> {
            try {
                a.shutdown(grace.compareTo(Duration.ofSeconds(2)) < 0 ? grace : Duration.ofSeconds(2));
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

    @Override
    public void remove(String id) {
        ManagedSandbox sandbox = get(id);
        stop(sandbox, REMOVE_GRACE);
        discard(sandbox);
        log.info("sandbox {} removed", id);
    }

    /** Kills the VM and forgets the sandbox, deleting its directory. */
    private void discard(ManagedSandbox sandbox) {
        sandbox.fail("removed");
        VmHandle vm = sandbox.vm();
        if (vm != null) {
            vm.kill();
        }
        runRoot.delete(sandbox.dir());
        sandboxes.remove(sandbox.id());
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (ManagedSandbox sandbox : List.copyOf(sandboxes.values())) {
                executor.submit(() -> {
                    try {
                        stop(sandbox, Duration.ofMillis(500));
                    } finally {
                        discard(sandbox);
                    }
                });
            }
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
