package dev.basalt.bench;

import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.core.SandboxManager;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** N sandboxes created at once: all must become READY and answer an exec. */
final class ConcurrencyBench {
    private final SandboxManager manager;
    private final int count;

    ConcurrencyBench(SandboxManager manager, int count) {
        this.manager = manager;
        this.count = count;
    }

    void run(Report report) throws Exception {
        List<String> ids = new ArrayList<>();
        long start = System.nanoTime();
        int answered = 0;
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<SandboxInfo>> futures = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                futures.add(executor.submit(() -> {
                    SandboxInfo info = manager.create(SandboxSpec.defaults().withColdBoot(true));
                    manager.exec(info.id(), ExecRequest.of("true"));
                    return info;
                }));
            }
            for (Future<SandboxInfo> f : futures) {
                ids.add(f.get().id());
                answered++;
            }
        } finally {
            double total = (System.nanoTime() - start) / 1e9;
            report.add(count + " sandboxes cold-booted concurrently, all answering exec",
                    String.format("%.2f s total", total), "report", answered == count);
            ids.forEach(manager::remove);
        }
    }
}
