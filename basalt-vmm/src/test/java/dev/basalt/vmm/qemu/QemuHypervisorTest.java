package dev.basalt.vmm.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.vmm.VmHandle;
import dev.basalt.vmm.Boot;
import dev.basalt.vmm.LaunchPolicy;
import dev.basalt.vmm.Machine;
import dev.basalt.vmm.MemoryBacking;
import dev.basalt.vmm.VmConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The QEMU backend on its own: launch, QMP control, kill, and start-up failures, with real QEMU. */
class QemuHypervisorTest {
    private static final QemuHypervisor QEMU = QemuHypervisor.detect();

    static Path image() {
        String dir = System.getProperty("basalt.images");
        if (dir == null || dir.isBlank() || dir.startsWith("${")) {
            dir = System.getenv("BASALT_IMAGES");
        }
        if (dir == null || dir.isBlank()) {
            throw new IllegalStateException("no guest image: run the tests with bin/test");
        }
        return Path.of(dir, "default");
    }

    private static VmConfig config(Path kernel) {
        Path image = image();
        boolean acpi = !readManifest(image).contains("\"acpi\": false");
        return new VmConfig("qemu-test", new Machine(1, 128, new MemoryBacking.Anonymous()),
                new Boot(kernel, image.resolve("initrd.img"), "", acpi), VmConfig.standardDevices());
    }

    private static String readManifest(Path image) {
        try {
            return Files.readString(image.resolve("image.json"));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void launchControlledByQmpAndKilled(@TempDir Path run) {
        VmHandle vm = QEMU.boot(config(image().resolve("vmlinux")), run, LaunchPolicy.diesWithParent());
        try (QmpClient qmp = QmpClient.connect(run.resolve("qmp.sock"))) {
            assertThat(vm.isAlive()).isTrue();
            assertThat(vm.accel()).isEqualTo(QEMU.accel());
            assertThat(qmp.execute("query-status", Map.of()).path("status").asText()).isEqualTo("running");
            qmp.execute("stop", Map.of());
            assertThat(qmp.execute("query-status", Map.of()).path("status").asText()).isEqualTo("paused");
            assertThatThrownBy(() -> qmp.execute("no-such-command", Map.of()))
                    .isInstanceOf(BasaltException.Internal.class).hasMessageContaining("CommandNotFound");
            qmp.execute("cont", Map.of());
        } finally {
            vm.kill();
        }
        assertThat(vm.isAlive()).isFalse();
        assertThat(ProcessHandle.of(vm.pid())).isEmpty();
        assertThat(vm.awaitExit(Duration.ofMillis(1))).isTrue();
    }

    @Test
    void qemuQuitViaQmpEndsTheProcess(@TempDir Path run) {
        VmHandle vm = QEMU.boot(config(image().resolve("vmlinux")), run, LaunchPolicy.diesWithParent());
        try (QmpClient qmp = QmpClient.connect(run.resolve("qmp.sock"))) {
            try {
                qmp.execute("quit", Map.of());
            } catch (BasaltException.Unavailable closedWhileAnswering) {
                // QEMU may close the socket before its answer is read
            }
            assertThat(vm.awaitExit(Duration.ofSeconds(10))).isTrue();
            assertThat(vm.exited().join()).isZero();
        } finally {
            vm.kill();
        }
    }

    @Test
    void unloadableKernelEndsTheVmWithQemusOwnMessage(@TempDir Path run) throws Exception {
        Path bogus = Files.writeString(run.resolve("not-a-kernel"), "garbage");
        VmHandle vm;
        try {
            vm = QEMU.boot(config(bogus), run, LaunchPolicy.diesWithParent());
        } catch (BasaltException.Internal early) {
            // QEMU may fail before or after it has created its sockets; both are fine if the reason is kept
            assertThat(early).hasMessageContaining("QEMU exited at start-up").hasMessageContaining("kernel");
            return;
        }
        try {
            assertThat(vm.awaitExit(Duration.ofSeconds(10))).isTrue();
            assertThat(vm.exited().join()).isNotZero();
            assertThat(vm.vmmLogTail(2000)).containsIgnoringCase("kernel");
        } finally {
            vm.kill();
        }
    }

    @Test
    void commandLineHasTheTunedBootFlags(@TempDir Path run) {
        String cmd = String.join(" ", QEMU.commandLine(config(image().resolve("vmlinux")), run));
        assertThat(cmd).contains("-M microvm,rtc=on").contains("virtio-serial-device,max_ports=2")
                .contains("name=basalt.agent").contains("-no-reboot").contains("basalt.hostname=qemu-test")
                .contains("-accel " + QEMU.accel().id());
    }
}
