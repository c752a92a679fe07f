package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxSpec;
import dev.basalt.vmm.Hypervisors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Every kind of bad input gets a clear error, and nothing is left behind or harmed. */
@ExtendWith(RealVms.class)
class BadInputTest {

    @Test
    void unknownSandboxId(SandboxManager manager) {
        assertThatThrownBy(() -> manager.exec("0123456789ab", ExecRequest.of("true")))
                .isInstanceOf(BasaltException.NotFound.class).hasMessageContaining("0123456789ab");
        assertThatThrownBy(() -> manager.inspect("")).isInstanceOf(BasaltException.InvalidArgument.class);
        assertThatThrownBy(() -> manager.remove("nope")).isInstanceOf(BasaltException.NotFound.class);
    }

    @Test
    void badSizesAreRejectedBeforeAnythingStarts() {
        assertThatThrownBy(() -> SandboxSpec.defaults().withMemoryMib(0))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("memory");
        assertThatThrownBy(() -> SandboxSpec.defaults().withMemoryMib(-5))
                .isInstanceOf(BasaltException.InvalidArgument.class);
        assertThatThrownBy(() -> SandboxSpec.defaults().withMemoryMib(10_000_000))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("65536");
        assertThatThrownBy(() -> SandboxSpec.defaults().withVcpus(0))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("vcpus");
        assertThatThrownBy(() -> SandboxSpec.defaults().withVcpus(1000))
                .isInstanceOf(BasaltException.InvalidArgument.class);
        assertThatThrownBy(() -> SandboxSpec.defaults().withLabels(Map.of("bad key!", "v")))
                .isInstanceOf(BasaltException.InvalidArgument.class);
    }

    @Test
    void hostLimits(SandboxManager manager) {
        int cores = Runtime.getRuntime().availableProcessors();
        assertThatThrownBy(() -> manager.create(SandboxSpec.defaults().withVcpus(cores + 1)))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("cores");
        long available = HostResources.availableMib();
        if (available + 1024 <= SandboxSpec.MAX_MEMORY_MIB) {
            assertThatThrownBy(() -> manager.create(SandboxSpec.defaults().withMemoryMib((int) available + 1024)))
                    .isInstanceOf(BasaltException.ResourceExhausted.class).hasMessageContaining("available");
        }
        assertNothingLeft(manager);
    }

    @Test
    void missingKernelOrImage(SandboxManager manager) {
        assertThatThrownBy(() -> manager.create(SandboxSpec.defaults().withKernel(Path.of("/nonexistent/vmlinux"))))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("/nonexistent/vmlinux");
        assertThatThrownBy(() -> manager.create(SandboxSpec.defaults().withImage("no-such-image")))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("no-such-image");
        assertNothingLeft(manager);
    }

    @Test
    void vmThatDiesDuringBoot(SandboxManager manager, @TempDir Path tmp) throws IOException {
        Path garbage = tmp.resolve("garbage-initrd");
        Files.write(garbage, new byte[4096]);
        assertThatThrownBy(() -> manager.create(SandboxSpec.defaults().withInitrd(garbage)
                        .withBootTimeout(Duration.ofSeconds(60))))
                .isInstanceOf(BasaltException.Unavailable.class)
                .hasMessageContaining("failed to boot");
        assertNothingLeft(manager);
    }

    @Test
    void kernelQemuCannotLoad(SandboxManager manager, @TempDir Path tmp) throws IOException {
        Path bogus = Files.writeString(tmp.resolve("vmlinux"), "not a kernel");
        assertThatThrownBy(() -> manager.create(SandboxSpec.defaults().withKernel(bogus)))
                .isInstanceOf(BasaltException.class)
                .hasMessageContaining("failed to boot")
                .hasMessageContainingAll("QEMU", "kernel");
        assertNothingLeft(manager);
    }

    @Test
    void guestThatNeverAnswers(SandboxManager manager, @TempDir Path tmp) throws Exception {
        Path initrd = silentInitrd(tmp);
        long start = System.nanoTime();
        assertThatThrownBy(() -> manager.create(SandboxSpec.defaults().withInitrd(initrd)
                        .withBootTimeout(Duration.ofSeconds(6))))
                .isInstanceOf(BasaltException.Unavailable.class)
                .hasMessageContaining("did not answer within 6 s");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
        assertNothingLeft(manager);
    }

    /**
     * The kernel hands init every command-line word it does not know (here, a typo in an image's
     * {@code cmdlineExtra}); the agent, as PID 1, ignores them instead of exiting, which would
     * panic the guest.
     */
    @Test
    void imageWithAnUnknownKernelWordStillBoots(@TempDir Path tmp) throws Exception {
        Path image = Files.createDirectories(tmp.resolve("images/default"));
        Path original = RealVms.imagesDir().resolve("default").toRealPath();
        for (String file : List.of("vmlinux", "initrd.img")) {
            Files.createSymbolicLink(image.resolve(file), original.resolve(file));
        }
        ObjectNode json = (ObjectNode) new ObjectMapper().readTree(original.resolve("image.json").toFile());
        json.put("cmdlineExtra",
                json.path("cmdlineExtra").asText() + " basaltnosuchword");
        Files.writeString(image.resolve("image.json"), json.toString());
        ManagerConfig config = ManagerConfig.defaults().withImagesDir(tmp.resolve("images"))
                .withRunRoot(tmp.resolve("run")).withStateDir(tmp.resolve("state"))
                .withShmDir(Path.of("/dev/shm", "basalt-test-" + ProcessHandle.current().pid() + "-word"));
        try (SandboxManager manager = new SandboxManager(config, Hypervisors.detect())) {
            String id = manager.create(SandboxSpec.defaults().withColdBoot(true)).id();
            assertThat(manager.exec(id, ExecRequest.of("cat", "/proc/cmdline")).stdoutText())
                    .contains("basaltnosuchword");
        } finally {
            RunRoot.deleteTree(config.shmDir());
        }
    }

    /** An initramfs whose /init boots fine but never starts the agent. */
    private static Path silentInitrd(Path tmp) throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root/bin"));
        Files.copy(Path.of("/bin/busybox"), root.resolve("busybox"));
        Path init = tmp.resolve("root/init");
        Files.writeString(init, "#!/bin/busybox sh\nexec /bin/busybox sleep 3600\n");
        Files.setPosixFilePermissions(init, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path initrd = tmp.resolve("silent.cpio");
        Process p = new ProcessBuilder("sh", "-c", "find . | cpio -o -H newc --quiet > " + initrd)
                .directory(tmp.resolve("root").toFile()).inheritIO().start();
        assertThat(p.waitFor()).isZero();
        return initrd;
    }

    /** No sandbox directory and no VMM process of a failed create remains. */
    static void assertNothingLeft(SandboxManager manager) {
        List<String> live = manager.list().stream().map(s -> s.id()).toList();
        long running = manager.list().stream().filter(s -> s.vmmPid() > 0).count();
        try (var dirs = Files.list(RealVms.config().runRoot())) {
            assertThat(dirs.map(d -> d.getFileName().toString()).toList()).allMatch(live::contains);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        assertThat(ProcessHandle.current().descendants()
                .filter(c -> c.info().command().orElse("").contains("qemu-system"))
                .count()).isEqualTo(running);
    }
}
