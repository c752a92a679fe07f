package dev.basalt.core;

import dev.basalt.api.BasaltException;
import dev.basalt.api.SandboxSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongSupplier;

/** Checks a spec against what this host can give before a VM is started. */
final class HostResources {
    /** QEMU's own memory next to the guest's. */
    static final int VMM_OVERHEAD_MIB = 64;
    /** Room kept free on the shm filesystem beyond what a template, clone or save could need. */
    static final long SHM_MARGIN_MIB = 16;
    private static final Path MEMINFO = Path.of("/proc/meminfo");
    private static final String MEM_AVAILABLE = "MemAvailable:";
    private static final String MEM_TOTAL = "MemTotal:";

    private HostResources() {
    }

    /** Checks the CPUs and the memory a new VM of {@code spec} needs. */
    static void check(SandboxSpec spec) {
        checkCpus(spec);
        checkMemory(spec);
    }

    /** Checks only the vCPU count: for sandboxes whose VM already runs (taken from a pool). */
    static void checkCpus(SandboxSpec spec) {
        int cores = Runtime.getRuntime().availableProcessors();
        if (spec.vcpus() > cores) {
            throw new BasaltException.InvalidArgument("vcpus " + spec.vcpus() + " exceeds the host's " + cores
                    + " CPU cores: ask for at most " + cores);
        }
    }

    private static void checkMemory(SandboxSpec spec) {
        long available = availableMib();
        if (available > 0 && spec.memoryMib() + VMM_OVERHEAD_MIB > available) {
            throw new BasaltException.ResourceExhausted("memory " + spec.memoryMib() + " MiB does not fit: the host has "
                    + available + " MiB available (and each VM needs ~" + VMM_OVERHEAD_MIB + " MiB more for QEMU)");
        }
    }

    /**
     * Checks that the filesystem of {@code dir} has {@code neededMib} MiB free. Template memory lives
     * there (tmpfs), and a template file grows whenever a clone or a save faults in one of its holes,
     * up to the template's memory size; a QEMU whose mapping cannot grow dies of SIGBUS. So Basalt
     * refuses an operation that could need more room than there is, instead of losing a sandbox.
     */
    static void checkShmRoom(Path dir, long neededMib, String what) {
        checkShmRoom(dir, neededMib, () -> neededMib, what);
    }

    /**
     * As {@link #checkShmRoom(Path, long, String)}, where {@code worstCaseMib} is cheap to know and
     * {@code neededMib} precise but dearer (it stats a template file through the foreign-function
     * API, whose first use costs ~100 ms of linking): asked only when the worst case does not fit.
     */
    static void checkShmRoom(Path dir, long worstCaseMib, LongSupplier neededMib, String what) {
        long freeMib;
        try {
            freeMib = Files.getFileStore(dir).getUsableSpace() >> 20;
        } catch (IOException e) {
            return;   // cannot tell: let the operation try
        }
        if (worstCaseMib <= freeMib) {
            return;
        }
        long needed = neededMib.getAsLong();
        if (needed > freeMib) {
            throw new BasaltException.ResourceExhausted(what + " needs up to " + needed + " MiB free in " + dir
                    + ", which has " + freeMib + " MiB: give that filesystem more room (a larger /dev/shm) or point "
                    + "Basalt at a bigger one (ManagerConfig.withShmDir, basalt daemon --shm-dir)");
        }
    }

    /** MiB that {@code memoryFile} (a template's memory) can still grow by before it holds all of {@code memoryMib}. */
    static long templateGrowthMib(Path memoryFile, int memoryMib) {
        try {
            return Math.max(0, memoryMib - (ZeroPages.allocatedBytes(memoryFile) >> 20));
        } catch (IOException e) {
            return memoryMib;
        }
    }

    /** MemAvailable from /proc/meminfo in MiB, or 0 if unknown. */
    static long availableMib() {
        return meminfoMib(MEM_AVAILABLE);
    }

    /** The host's total memory in MiB ({@code MemTotal}), or 0 if unknown. */
    static long totalMib() {
        return meminfoMib(MEM_TOTAL);
    }

    private static long meminfoMib(String field) {
        try {
            String meminfo = Files.readString(MEMINFO);
            int at = meminfo.indexOf(field);
            if (at < 0) {
                return 0;
            }
            int end = meminfo.indexOf('\n', at);
            String kib = meminfo.substring(at + field.length(), end < 0 ? meminfo.length() : end)
                    .replace("kB", "").strip();
            return Long.parseLong(kib) / 1024;
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }
}
