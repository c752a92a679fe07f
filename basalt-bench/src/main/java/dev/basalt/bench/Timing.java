package dev.basalt.bench;

import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.core.SandboxManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;

/** Small measuring helpers shared by the benchmarks. */
final class Timing {
    /** USER_HZ: the unit of the CPU times in /proc/PID/stat, 100 on every Linux architecture Basalt runs on. */
    private static final long CLOCK_TICKS_PER_SECOND = 100;

    private Timing() {
    }

    /** Milliseconds from calling {@code create} until the new sandbox answered {@code exec true}; removes it after. */
    static double createToFirstExecMillis(SandboxManager manager, Supplier<SandboxInfo> create) {
        long start = System.nanoTime();
        SandboxInfo info = create.get();
        try {
            manager.exec(info.id(), ExecRequest.of("true"));
            return (System.nanoTime() - start) / 1e6;
        } finally {
            manager.remove(info.id());
        }
    }

    /**
     * CPU time a process has used so far (user + system, all threads), in ms; the kernel counts it in
     * clock ticks, so it is exact to 10 ms. -1 if the process is gone.
     */
    static long cpuMillis(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // fields after the parenthesised command: state is field 3, utime 14, stime 15
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 1000 / CLOCK_TICKS_PER_SECOND;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Proportional set size of a process in MiB (its share of pages it shares with others). */
    static double pssMib(long pid) {
        return procKib(pid, "smaps_rollup", "Pss:") / 1024.0;
    }

    /** Resident set size of a process in MiB. */
    static double rssMib(long pid) {
        return procKib(pid, "status", "VmRSS:") / 1024.0;
    }

    /** The kB figure of the line starting with {@code field} in /proc/PID/{@code file}; NaN if there is none. */
    private static double procKib(long pid, String file, String field) {
        try {
            return Files.readAllLines(Path.of("/proc", Long.toString(pid), file)).stream()
                    .filter(l -> l.startsWith(field)).findFirst()
                    .map(l -> (double) Long.parseLong(l.replaceAll("[^0-9]", ""))).orElse(Double.NaN);
        } catch (IOException e) {
            return Double.NaN;
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
