package dev.basalt.core;

import dev.basalt.api.BasaltException;
import dev.basalt.api.SandboxSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Checks a spec against what this host can give before a VM is started. */
final class HostResources {
    /** QEMU's own memory next to the guest's. */
    static final int VMM_OVERHEAD_MIB = 64;

    private HostResources() {
    }

    static void check(SandboxSpec spec) {
        int cores = Runtime.getRuntime().availableProcessors();
        if (spec.vcpus() > cores) {
            throw new BasaltException.InvalidArgument("vcpus " + spec.vcpus() + " exceeds the host's " + cores
                    + " CPU cores: ask for at most " + cores);
        }
        long available = availableMib();
        if (available > 0 && spec.memoryMib() + VMM_OVERHEAD_MIB > available) {
            throw new BasaltException.ResourceExhausted("memory " + spec.memoryMib() + " MiB does not fit: the host has "
                    + available + " MiB available (and each VM needs ~" + VMM_OVERHEAD_MIB + " MiB more for QEMU)");
        }
    }

    /** MemAvailable from /proc/meminfo in MiB, or 0 if unknown. */
    static long availableMib() {
        try {
            return Files.readAllLines(Path.of("/proc/meminfo")).stream()
                    .filter(l -> l.startsWith("MemAvailable:"))
                    .findFirst()
                    .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024)
                    .orElse(0L);
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }
}
