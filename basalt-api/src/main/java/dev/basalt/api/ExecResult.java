package dev.basalt.api;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;

/**
 * Outcome of a buffered exec.
 *
 * @param exit            how the process ended
 * @param stdout          captured stdout (at most the manager's output limit; empty when streamed to a sink)
 * @param stderr          captured stderr (same limit)
 * @param outputTruncated true if more output was produced than the limit allowed; the excess was discarded
 *                        (the process was not stopped)
 * @param duration        time from the request to the exit
 */
public record ExecResult(ExitStatus exit, byte[] stdout, byte[] stderr, boolean outputTruncated, Duration duration) {
    public ExecResult {
        Objects.requireNonNull(exit, "exit");
        Objects.requireNonNull(stdout, "stdout");
        Objects.requireNonNull(stderr, "stderr");
        Objects.requireNonNull(duration, "duration");
    }

    public String stdoutText() {
        return new String(stdout, StandardCharsets.UTF_8);
    }

    public String stderrText() {
        return new String(stderr, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "ExecResult[exit=" + exit + ", stdout=" + stdout.length + " bytes, stderr=" + stderr.length
                + " bytes, truncated=" + outputTruncated + ", duration=" + duration + "]";
    }
}
