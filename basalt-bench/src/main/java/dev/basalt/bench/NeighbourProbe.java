package dev.basalt.bench;

import dev.basalt.api.ExecRequest;
import dev.basalt.grpc.RemoteSandboxes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Runs {@code exec true} in a sandbox over and over from a virtual thread (a pause of 100 ms
 * between calls) and files each latency, or each failure, under the phase named last (at first
 * {@code warm-up}).
 */
final class NeighbourProbe implements AutoCloseable {
    private static final Duration PAUSE = Duration.ofMillis(100);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

    private final RemoteSandboxes client;
    private final String sandbox;
    private final Map<String, List<Double>> millis = new ConcurrentHashMap<>();
    private final List<String> failures = new CopyOnWriteArrayList<>();
    private final Thread thread;
    /** The first calls of a new VM pay for TCG translating the exec path: not part of "idle". */
    private volatile String phase = "warm-up";
    private volatile boolean closed;

    NeighbourProbe(RemoteSandboxes client, String sandbox) {
        this.client = client;
        this.sandbox = sandbox;
        this.thread = Thread.ofVirtual().name("neighbour-probe").start(this::loop);
    }

    /** Files the following samples under {@code name}. */
    void phase(String name) {
        phase = name;
    }

    /** The latencies (ms) filed under {@code name} so far. */
    List<Double> millis(String name) {
        return new ArrayList<>(millis.getOrDefault(name, List.of()));
    }

    /** Every failed call, as "phase: error". */
    List<String> failures() {
        return List.copyOf(failures);
    }

    private void loop() {
        while (!closed) {
            String now = phase;
            long start = System.nanoTime();
            try {
                var r = client.exec(sandbox, ExecRequest.of("true").withTimeout(CALL_TIMEOUT));
                if (!r.exit().success()) {
                    failures.add(now + ": exit " + r.exit());
                } else {
                    millis.computeIfAbsent(now, k -> new CopyOnWriteArrayList<>()).add((System.nanoTime() - start) / 1e6);
                }
            } catch (RuntimeException e) {
                if (!closed) {
                    failures.add(now + ": " + e.getMessage());
                }
            }
            try {
                Thread.sleep(PAUSE);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** The {@code q}-quantile (0..1) of {@code samples}, nearest rank; NaN if there are none. */
    static double quantile(List<Double> samples, double q) {
        if (samples.isEmpty()) {
            return Double.NaN;
        }
        List<Double> s = new ArrayList<>(samples);
        s.sort(null);
        int rank = (int) Math.ceil(q * s.size());
        return s.get(Math.max(0, Math.min(s.size() - 1, rank - 1)));
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        thread.join(CALL_TIMEOUT.toMillis());
    }
}
