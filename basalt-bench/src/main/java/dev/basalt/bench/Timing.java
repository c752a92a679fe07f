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

    /** Proportional set size of a process in MiB (its share of pages it shares with others). */
    static double pssMib(long pid) {
        try {
            return Files.readAllLines(Path.of("/proc", Long.toString(pid), "smaps_rollup")).stream()
                    .filter(l -> l.startsWith("Pss:")).findFirst()
                    .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024.0).orElse(Double.NaN);
        } catch (IOException e) {
            return Double.NaN;
        }
    }

    /** Resident set size of a process in MiB. */
    static double rssMib(long pid) {
        try {
            return Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
                    .filter(l -> l.startsWith("VmRSS:")).findFirst()
                    .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024.0).orElse(Double.NaN);
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
