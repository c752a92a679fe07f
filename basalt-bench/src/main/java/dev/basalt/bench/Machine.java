package dev.basalt.bench;

import dev.basalt.vmm.qemu.QemuHypervisor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** One-line facts about the machine a run was measured on. */
final class Machine {
    private Machine() {
    }

    static List<String> describe(QemuHypervisor qemu) {
        return List.of(
                "machine: " + cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cores, "
                        + memTotalGib() + " GiB RAM, kernel " + System.getProperty("os.version"),
                "accelerator: " + qemu.accel().id() + " (" + qemu.accelReason() + ")",
                "QEMU: " + qemuVersion() + "; Java " + System.getProperty("java.version"));
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse("unknown CPU");
        } catch (IOException e) {
            return "unknown CPU";
        }
    }

    private static long memTotalGib() {
        try {
            return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal"))
                    .findFirst().map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024 / 1024).orElse(0L);
        } catch (IOException e) {
            return 0;
        }
    }

    private static String qemuVersion() {
        try {
            Process p = new ProcessBuilder("qemu-system-x86_64", "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).lines().findFirst().orElse("?");
            p.waitFor();
            return out.replace("QEMU emulator version ", "");
        } catch (IOException e) {
            return "unknown";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }
}
