package dev.basalt.bench;

import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxSpec;
import dev.basalt.core.SandboxManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Pause and resume of a 256 MiB sandbox (state to disk, VM stopped; VM started from it, same id),
 * and the first exec after a resume beside the first exec after a restore from a snapshot, the
 * restore path it must not be slower than.
 */
final class PauseBench {
    private static final int ROUNDS = 5;

    private final SandboxManager manager;

    PauseBench(SandboxManager manager) {
        this.manager = manager;
    }

    void run(Report report) {
        String id = manager.create(SandboxSpec.defaults()).id();
        String snapshot = "bench-pause-" + ProcessHandle.current().pid();
        List<Double> pause = new ArrayList<>();
        List<Double> resume = new ArrayList<>();
        List<Double> resumeToExec = new ArrayList<>();
        List<Double> restoreToExec = new ArrayList<>();
        try {
            manager.exec(id, ExecRequest.of("sh", "-c", "head -c 33554432 /dev/urandom > /root/ballast"));   // 32 MiB of state
            manager.checkpoint(id, snapshot);
            for (int i = 0; i < ROUNDS; i++) {
                long t0 = System.nanoTime();
                manager.pause(id);
                long t1 = System.nanoTime();
                manager.resume(id);
                long t2 = System.nanoTime();
                manager.exec(id, ExecRequest.of("true"));
                long t3 = System.nanoTime();
                pause.add((t1 - t0) / 1e6);
                resume.add((t2 - t1) / 1e6);
                resumeToExec.add((t3 - t1) / 1e6);

                long r0 = System.nanoTime();
                String restored = manager.restore(snapshot, Map.of()).id();
                manager.exec(restored, ExecRequest.of("true"));
                restoreToExec.add((System.nanoTime() - r0) / 1e6);
                manager.remove(restored);
            }
        } finally {
            manager.remove(id);
            manager.deleteSnapshot(snapshot);
        }
        double r = Stats.of(resumeToExec).median();
        double s = Stats.of(restoreToExec).median();
        report.add("Pause of a 256 MiB sandbox (32 MiB written; state to disk, VM stopped)",
                String.format("%.0f ms", Stats.of(pause).median()), "report", null);
        report.add("  resume (same id, READY)", String.format("%.0f ms", Stats.of(resume).median()), "report", null);
        report.add("  resume → first exec; restore from a snapshot → first exec", String.format("%.0f; %.0f ms", r, s),
                "≤ restore", r <= s);
        report.note(String.format("Pause/resume: medians of %d rounds on one sandbox, each followed by a restore of a "
                + "checkpoint of it for comparison.", ROUNDS));
    }
}
