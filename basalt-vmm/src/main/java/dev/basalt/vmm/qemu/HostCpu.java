package dev.basalt.vmm.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Facts about the host CPU that the guest's boot flags need. */
final class HostCpu {
    private HostCpu() {
    }

    /** The host's TSC frequency in kHz, from {@code /proc/cpuinfo}'s "cpu MHz"; 0 if unknown. */
    static long tscKhz() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("cpu MHz"))
                    .findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).strip())
                    .map(mhz -> Math.round(Double.parseDouble(mhz) * 1000))
                    .orElse(0L);
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }
}
