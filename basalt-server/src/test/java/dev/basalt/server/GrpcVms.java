package dev.basalt.server;

import dev.basalt.api.SandboxSpec;
import dev.basalt.core.ManagerConfig;
import dev.basalt.core.SandboxManager;
import dev.basalt.grpc.RemoteSandboxes;
import dev.basalt.vmm.Hypervisors;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * The JUnit 5 extension the gRPC tests boot real VMs through: one real {@link SandboxManager} (private
 * run, state and shm directories, deleted at the end), served by an in-process {@link BasaltServer},
 * and a {@link RemoteSandboxes} client of it; plus, on request, one READY sandbox shared by every test
 * that only needs "some sandbox". Everything is closed when the test run ends.
 */
public final class GrpcVms implements ParameterResolver {

    /** The stack under test: the real manager, the server over it, a client through the wire, a shared sandbox. */
    public record Stack(SandboxManager manager, BasaltServer server, RemoteSandboxes client, String sharedId) {
    }

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
        return p.getParameter().getType() == Stack.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext e) {
        ExtensionContext.Store store = e.getRoot().getStore(ExtensionContext.Namespace.create(GrpcVms.class));
        return store.getOrComputeIfAbsent("stack", k -> new Closing(newStack()), Closing.class).stack();
    }

    private static Stack newStack() {
        SandboxManager manager = new SandboxManager(config(), Hypervisors.detect());
        String name = "basalt-test-" + ProcessHandle.current().pid();
        BasaltServer server = new BasaltServer(InProcessServerBuilder.forName(name), manager).start();
        RemoteSandboxes client = new RemoteSandboxes(InProcessChannelBuilder.forName(name).build());
        try {
            return new Stack(manager, server, client, client.create(SandboxSpec.defaults()).id());
        } catch (RuntimeException e) {
            new Closing(new Stack(manager, server, client, null)).close();     // leave nothing behind
            throw e;
        }
    }

    /** A manager config over the built images with directories private to this test JVM. */
    public static ManagerConfig config() {
        String run = "bgrpc-" + ProcessHandle.current().pid();
        return ManagerConfig.defaults().withImagesDir(imagesDir()).withRunRoot(Path.of("/tmp", run))
                .withStateDir(Path.of("/tmp", run + "-state")).withShmDir(Path.of("/dev/shm", run));
    }

    public static Path imagesDir() {
        return dev.basalt.core.ImageCatalog.requireBuiltImages();
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort
        }
    }

    private record Closing(Stack stack) implements AutoCloseable {
        @Override
        public void close() {
            stack.client().close();
            stack.server().close();
            stack.manager().close();
            ManagerConfig c = config();
            deleteTree(c.runRoot());
            deleteTree(c.shmDir());
            deleteTree(c.stateDir());
        }
    }
}
