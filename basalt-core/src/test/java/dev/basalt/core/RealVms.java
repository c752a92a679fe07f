package dev.basalt.core;

import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * The one JUnit 5 extension end-to-end tests boot real VMs through. It gives a test a
 * {@link SandboxManager} shared by the whole test run (closed when the run ends, which removes
 * every sandbox) and, on request, a {@link SharedSandbox}: one booted sandbox reused by all tests
 * that only need "some READY sandbox", so the suite boots as few VMs as possible under TCG.
 *
 * <p>Needs the guest image built by {@code bin/test} (system property {@code basalt.images}); it
 * fails, not skips, without one: a real-VM test that silently does not run is a defect.
 */
public final class RealVms implements ParameterResolver {

    /** A READY sandbox shared by many tests; tests must not stop or remove it. */
    public record SharedSandbox(SandboxManager manager, String id) {
        public SandboxInfo info() {
            return manager.inspect(id);
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
        Class<?> type = p.getParameter().getType();
        return type == SandboxManager.class || type == SharedSandbox.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext e) {
        ExtensionContext.Store store = e.getRoot().getStore(ExtensionContext.Namespace.create(RealVms.class));
        SandboxManager manager = store.getOrComputeIfAbsent("manager", k -> new ClosingManager(newManager()),
                ClosingManager.class).manager();
        if (p.getParameter().getType() == SandboxManager.class) {
            return manager;
        }
        return store.getOrComputeIfAbsent("shared", k -> new SharedSandbox(manager,
                manager.create(SandboxSpec.defaults()).id()), SharedSandbox.class);
    }

    /** A manager over the built images and a private run directory of this test run. */
    public static SandboxManager newManager() {
        return new SandboxManager(config(), dev.basalt.vmm.Hypervisors.detect());
    }

    /**
     * The configuration of this test run's managers: run, state and template directories named by
     * the JVM's pid, deleted when it exits (also when no test used the shared manager, whose close
     * deletes them too: templates in /dev/shm are memory), with those of test processes that are gone.
     */
    public static ManagerConfig config() {
        String run = "basalt-test-" + ProcessHandle.current().pid();
        if (DIRS_DELETED_AT_EXIT.compareAndSet(false, true)) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                deleteDirsOf(ProcessHandle.current().pid());
                deleteDirsOfDeadTestProcesses();
            }, "delete-test-dirs"));
        }
        return ManagerConfig.defaults().withImagesDir(imagesDir()).withRunRoot(Path.of("/tmp", run))
                .withStateDir(Path.of("/tmp", run + "-state")).withShmDir(Path.of("/dev/shm", run))
                .withImageStore(DiskImages.sharedStore());
    }

    private static void deleteDirsOf(long pid) {
        String run = "basalt-test-" + pid;
        RunRoot.deleteTree(Path.of("/tmp", run));
        RunRoot.deleteTree(Path.of("/tmp", run + "-state"));
        RunRoot.deleteTree(Path.of("/dev/shm", run));
    }

    /**
     * The directories of test processes that are gone: children the tests killed with SIGKILL (a
     * daemon in its own process) have no exit of their own to delete them.
     */
    private static void deleteDirsOfDeadTestProcesses() {
        try (var dirs = java.nio.file.Files.list(Path.of("/dev/shm"))) {
            for (Path dir : dirs.toList()) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("basalt-test-(\\d+)").matcher(dir.getFileName().toString());
                if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty()) {
                    deleteDirsOf(Long.parseLong(m.group(1)));
                }
            }
        } catch (java.io.IOException e) {
            // nothing to sweep
        }
    }

    private static final java.util.concurrent.atomic.AtomicBoolean DIRS_DELETED_AT_EXIT = new java.util.concurrent.atomic.AtomicBoolean();

    public static Path imagesDir() {
        return dev.basalt.core.ImageCatalog.requireBuiltImages();
    }

    /** Closes the shared manager when the test run ends, and deletes its run directory. */
    private record ClosingManager(SandboxManager manager) implements AutoCloseable {
        @Override
        public void close() {
            manager.close();
            ManagerConfig c = config();
            RunRoot.deleteTree(c.runRoot());
            RunRoot.deleteTree(c.shmDir());
            RunRoot.deleteTree(c.stateDir());
        }
    }
}
