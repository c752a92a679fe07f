package dev.basalt.bench;

import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.grpc.RemoteSandboxes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real basaltd with N live sandboxes is killed with SIGKILL and started again: how long until all
 * N answer exec again, and how long the daemon itself spent reattaching.
 */
final class RestartBench {
    private static final Pattern REATTACHED = Pattern.compile("reattached (\\d+) sandbox\\(es\\) in (\\d+) ms");

    private final Path images;
    private final int count;

    RestartBench(Path images, int count) {
        this.images = images;
        this.count = count;
    }

    void run(Report report) throws Exception {
        List<String> ids = new ArrayList<>();
        try (DaemonProcess daemon = new DaemonProcess(images, List.of())) {
            daemon.start();
            try (RemoteSandboxes client = daemon.client();
                 var executor = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<SandboxInfo>> created = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    created.add(executor.submit(() -> client.create(SandboxSpec.defaults())));
                }
                for (Future<SandboxInfo> f : created) {
                    ids.add(f.get().id());
                }
            }
            daemon.kill();

            long start = System.nanoTime();
            daemon.start();
            int answering = 0;
            try (RemoteSandboxes client = daemon.client()) {
                for (String id : ids) {
                    answering += client.exec(id, ExecRequest.of("true")).exit().success() ? 1 : 0;
                }
                double total = (System.nanoTime() - start) / 1e6;
                long reattach = reattachMillis(daemon.logText());
                report.add("basaltd killed with " + count + " sandboxes: reattach after restart",
                        reattach < 0 ? "n/a" : reattach + " ms", "≤ 1 s", reattach >= 0 && reattach <= 1000);
                report.add("  … restart to all " + count + " answering exec (incl. JVM start)",
                        String.format("%d/%d in %.0f ms", answering, count, total), "report", answering == count);
                for (String id : ids) {
                    client.remove(id);
                }
            }
        }
    }

    /** The last reattach time basaltd logged, or -1. */
    static long reattachMillis(String log) {
        Matcher m = REATTACHED.matcher(log);
        long last = -1;
        while (m.find()) {
            last = Long.parseLong(m.group(2));
        }
        return last;
    }

}
