package dev.basalt.core;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.basalt.api.BasaltException;
import dev.basalt.api.SandboxEvent;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxState;
import dev.basalt.vmm.Hypervisor;
import dev.basalt.vmm.MemoryBacking;
import dev.basalt.vmm.VmHandle;
import dev.basalt.vmm.agent.AgentClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pause and resume under the same id. A pause freezes a READY sandbox like a checkpoint does
 * (channel at a frame boundary, vCPUs stopped), writes its full state — RAM included — to
 * {@code <stateDir>/paused/<id>/state.bin}, then stops its VM and deletes its run directory: a
 * paused sandbox costs disk, no memory and no process. A resume starts a VM of the same machine
 * in anonymous memory (a template clone no longer needs its template), loads the state, gives the
 * guest the time (and its own name again), and puts the running sandbox in the paused one's place;
 * then the state file is deleted. A networked sandbox gives its network slot back while it is
 * paused and gets one again (any: every slot looks the same from inside) when it resumes, with its
 * port forwards on the same host ports. A daemon records the PAUSED state, so another basaltd process
 * resumes what an earlier one paused.
 */
final class PauseOps {
    private static final Logger log = LoggerFactory.getLogger(PauseOps.class);
    static final String STATE = "state.bin";
    static final String META = "paused.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a resume checks before it loads the state. */
    record Meta(String vmmVersion, long bytes) {
    }

    private final SandboxRegistry registry;
    private final SandboxBuilder builder;
    private final Hypervisor hypervisor;
    private final RunRoot runRoot;
    private final Path dir;
    private final Set<String> busy = ConcurrentHashMap.newKeySet();

    PauseOps(SandboxRegistry registry, SandboxBuilder builder, Hypervisor hypervisor, RunRoot runRoot, Path dir) {
        this.registry = registry;
        this.builder = builder;
        this.hypervisor = hypervisor;
        this.runRoot = runRoot;
        this.dir = dir;
    }

    SandboxInfo pause(String id) {
        ManagedSandbox sandbox = registry.get(id);
        claim(id, "paused");
        try {
            return pause(sandbox);
        } finally {
            busy.remove(id);
        }
    }

    private SandboxInfo pause(ManagedSandbox sandbox) {
        String id = sandbox.id();
        long start = System.nanoTime();
        AgentClient agent = sandbox.beginPause();
        VmHandle vm = sandbox.vm();
        Path target = dir.resolve(id);
        Path tmp = target.resolve(STATE + ".tmp");
        boolean saved = false;
        try {
            Files.createDirectories(dir);
            deleteTree(target);
            Files.createDirectory(target, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            agent.ping(Duration.ofSeconds(10));       // the guest has read all the host sent
            agent.guestPaused(true);                   // no channel deadline runs while the host holds it still
            vm.saveState(tmp);
            saved = true;
            Files.move(tmp, target.resolve(STATE), StandardCopyOption.ATOMIC_MOVE);
            JSON.writeValue(target.resolve(META).toFile(), new Meta(hypervisor.version(), Files.size(target.resolve(STATE))));
        } catch (IOException | RuntimeException e) {
            if (saved || vm.isAlive()) {
                try {
                    vm.resume();
                } catch (RuntimeException ignored) {
                    // it runs on or it died; either way the sandbox says so
                }
            }
            agent.guestPaused(false);
            sandbox.thaw();
            deleteQuietly(target);
            if (e instanceof IOException io) {
                throw new BasaltException.ResourceExhausted("cannot save the state of sandbox " + id + " in " + target + ": "
                        + io.getMessage() + " (the sandbox runs on)", io);
            }
            throw AgentErrors.translate((RuntimeException) e, sandbox, "pause");
        }
        AgentClient toClose = sandbox.paused();
        CrashPoint.reach("pause-saved");
        if (toClose != null) {
            toClose.close();
        }
        vm.kill();
        vm.awaitExit(Duration.ofSeconds(10));
        registry.releaseNetwork(sandbox);
        runRoot.delete(sandbox.dir());
        log.info("sandbox {} paused in {} ms ({} MiB of state)", id, (System.nanoTime() - start) / 1_000_000,
                sizeMib(target.resolve(STATE)));
        return sandbox.info();
    }

    SandboxInfo resume(String id) {
        ManagedSandbox paused = registry.get(id);
        claim(id, "resumed");
        try {
            if (paused.state() != SandboxState.PAUSED) {
                throw new BasaltException.WrongState("cannot resume sandbox " + id + ": it is " + paused.state()
                        + ", not PAUSED");
            }
            return resume(paused);
        } finally {
            busy.remove(id);
        }
    }

    private SandboxInfo resume(ManagedSandbox paused) {
        String id = paused.id();
        long start = System.nanoTime();
        Path target = dir.resolve(id);
        Path state = target.resolve(STATE);
        Meta meta;
        try {
            meta = JSON.readValue(target.resolve(META).toFile(), Meta.class);
        } catch (IOException e) {
            throw new BasaltException.Unavailable("the saved state of paused sandbox " + id + " is missing or unreadable ("
                    + e.getMessage() + "); remove the sandbox", e);
        }
        if (!meta.vmmVersion().equals(hypervisor.version())) {
            throw new BasaltException.Unavailable("sandbox " + id + " was paused under QEMU " + meta.vmmVersion()
                    + " but this host runs QEMU " + hypervisor.version() + ": states do not load across versions");
        }
        HostResources.check(paused.spec());
        ManagedSandbox fresh = registry.successor(paused, paused.config().withMemory(new MemoryBacking.Anonymous()));
        try {
            builder.fromState(fresh, state, paused.spec().bootTimeout());
        } catch (RuntimeException e) {
            String reason = e.getMessage() + fresh.diagnostics();
            registry.abandon(fresh);
            throw new BasaltException.Unavailable("cannot resume sandbox " + id + " (it stays PAUSED): " + reason, e);
        }
        if (paused.expiresAt() != null) {
            fresh.expireAt(paused.expiresAt());
        }
        registry.replace(paused, fresh, SandboxEvent.Kind.RESUMED);
        deleteQuietly(target);
        log.info("sandbox {} resumed in {} ms", id, (System.nanoTime() - start) / 1_000_000);
        return fresh.info();
    }

    /** Deletes what a pause kept of a sandbox that is being removed. */
    void forget(String id) {
        deleteQuietly(dir.resolve(id));
    }

    private void claim(String id, String what) {
        if (!busy.add(id)) {
            throw new BasaltException.WrongState("sandbox " + id + " is being paused or resumed; it cannot be " + what
                    + " at the same time");
        }
    }

    private static long sizeMib(Path file) {
        try {
            return Files.size(file) >> 20;
        } catch (IOException e) {
            return -1;
        }
    }

    private static void deleteQuietly(Path root) {
        try {
            deleteTree(root);
        } catch (IOException e) {
            log.warn("cannot delete {}: {}", root, e.toString());
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
