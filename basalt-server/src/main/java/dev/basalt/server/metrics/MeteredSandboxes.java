package dev.basalt.server.metrics;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ForwardingSandboxes;
import dev.basalt.api.EventFilter;
import dev.basalt.api.ExecOutput;
import dev.basalt.api.ExecProcess;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.ExecResult;
import dev.basalt.api.FileInfo;
import dev.basalt.api.PoolStats;
import dev.basalt.api.SandboxEvent;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.Sandboxes;
import dev.basalt.api.SnapshotInfo;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A {@link Sandboxes} decorator that times the operations whose latency matters (create, restore,
 * fork, checkpoint, exec) into histograms, tagged with the outcome ({@code ok} or the
 * {@link BasaltException} kind). Everything else passes straight through, so the core stays free of
 * metrics. {@link #close()} does not close the delegate: the caller owns it.
 */
public final class MeteredSandboxes extends ForwardingSandboxes {
    private final MeterRegistry registry;
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();

    public MeteredSandboxes(Sandboxes delegate, MeterRegistry registry) {
        super(delegate);
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    private <T> T timed(String name, String mode, Supplier<T> call) {
        long start = System.nanoTime();
        String outcome = "ok";
        try {
            return call.get();
        } catch (BasaltException e) {
            outcome = e.getClass().getSimpleName();
            throw e;
        } catch (RuntimeException | Error e) {
            outcome = "Internal";
            throw e;
        } finally {
            timer(name, mode, outcome).record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
        }
    }

    private Timer timer(String name, String mode, String outcome) {
        return timers.computeIfAbsent(name + '|' + mode + '|' + outcome, k -> Timer.builder(name)
                .description(Descriptions.of(name))
                .tag("mode", mode).tag("outcome", outcome)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofMinutes(2))
                .register(registry));
    }

    @Override
    public SandboxInfo create(SandboxSpec spec) {
        return timed(Descriptions.CREATE, "wait", () -> delegate().create(spec));
    }

    @Override
    public SandboxInfo createAsync(SandboxSpec spec) {
        return timed(Descriptions.CREATE, "async", () -> delegate().createAsync(spec));
    }

    @Override
    public ExecResult exec(String id, ExecRequest request) {
        return timed(Descriptions.EXEC, "buffered", () -> delegate().exec(id, request));
    }

    @Override
    public ExecResult exec(String id, ExecRequest request, ExecOutput output) {
        return timed(Descriptions.EXEC, "streamed", () -> delegate().exec(id, request, output));
    }

    /** Timed from the start to the first {@code awaitExit} that returns the exit status (mode {@code process}). */
    @Override
    public ExecProcess start(String id, ExecRequest request, ExecOutput output) {
        long start = System.nanoTime();
        ExecProcess process = delegate().start(id, request, output);
        return new TimedProcess(process, start);
    }

    private final class TimedProcess implements ExecProcess {
        private final ExecProcess process;
        private final long start;
        private final java.util.concurrent.atomic.AtomicBoolean recorded = new java.util.concurrent.atomic.AtomicBoolean();

        TimedProcess(ExecProcess process, long start) {
            this.process = process;
            this.start = start;
        }

        @Override
        public int pid() {
            return process.pid();
        }

        @Override
        public void writeStdin(byte[] data) {
            process.writeStdin(data);
        }

        @Override
        public void closeStdin() {
            process.closeStdin();
        }

        @Override
        public void signal(int signal) {
            process.signal(signal);
        }

        @Override
        public void resize(int rows, int cols) {
            process.resize(rows, cols);
        }

        @Override
        public dev.basalt.api.ExitStatus awaitExit(Duration timeout) {
            dev.basalt.api.ExitStatus exit = process.awaitExit(timeout);
            if (recorded.compareAndSet(false, true)) {
                timer(Descriptions.EXEC, "process", "ok").record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
            }
            return exit;
        }

        @Override
        public void close() {
            process.close();
        }
    }

    @Override
    public SnapshotInfo checkpoint(String id, String snapshotName) {
        return timed(Descriptions.CHECKPOINT, "full", () -> delegate().checkpoint(id, snapshotName));
    }

    @Override
    public SandboxInfo restore(String snapshotName, Map<String, String> labels) {
        return timed(Descriptions.RESTORE, "snapshot", () -> delegate().restore(snapshotName, labels));
    }

    @Override
    public List<SandboxInfo> fork(String id, int count) {
        return timed(Descriptions.FORK, "fork", () -> delegate().fork(id, count));
    }

    @Override
    public SandboxInfo pause(String id) {
        return timed(Descriptions.PAUSE, "pause", () -> delegate().pause(id));
    }

    @Override
    public SandboxInfo resume(String id) {
        return timed(Descriptions.RESUME, "resume", () -> delegate().resume(id));
    }

    /** Does nothing: the delegate belongs to the caller. */
    @Override
    public void close() {
    }

    /** Meter names and their help texts. */
    static final class Descriptions {
        static final String CREATE = "basalt.sandbox.create";
        static final String RESTORE = "basalt.sandbox.restore";
        static final String FORK = "basalt.sandbox.fork";
        static final String CHECKPOINT = "basalt.sandbox.checkpoint";
        static final String EXEC = "basalt.exec";
        static final String PAUSE = "basalt.sandbox.pause";
        static final String RESUME = "basalt.sandbox.resume";

        private Descriptions() {
        }

        static String of(String name) {
            return switch (name) {
                case CREATE -> "Time to create a sandbox (mode wait: until READY; async: until accepted)";
                case RESTORE -> "Time to restore a sandbox from a snapshot until READY";
                case FORK -> "Time to fork a sandbox into its children";
                case CHECKPOINT -> "Time to checkpoint a sandbox into a snapshot";
                case PAUSE -> "Time to pause a sandbox (state saved, VM stopped)";
                case RESUME -> "Time to resume a paused sandbox until READY";
                case EXEC -> "Time to run a command to completion (buffered, streamed, or a started process until its exit)";
                default -> name;
            };
        }
    }
}
