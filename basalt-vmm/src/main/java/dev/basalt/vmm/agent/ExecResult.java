package dev.basalt.vmm.agent;

import dev.basalt.protocol.ExitKind;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Everything a finished process printed (up to the collector's limit) and how it ended.
 *
 * @param truncated true if output beyond the limit was discarded
 */
public record ExecResult(int pid, byte[] stdout, byte[] stderr, boolean truncated, ExecEvent.Exited exit) {
    public ExecResult {
        stdout = stdout.clone();
        stderr = stderr.clone();
        Objects.requireNonNull(exit, "exit");
    }

    @Override
    public byte[] stdout() {
        return stdout.clone();
    }

    @Override
    public byte[] stderr() {
        return stderr.clone();
    }

    /** Standard output decoded as UTF-8. */
    public String stdoutText() {
        return new String(stdout, StandardCharsets.UTF_8);
    }

    /** Standard error decoded as UTF-8. */
    public String stderrText() {
        return new String(stderr, StandardCharsets.UTF_8);
    }

    /** The exit code, or -1 if the process did not exit normally. */
    public int exitCode() {
        return exit.kind() == ExitKind.EXITED ? exit.value() : -1;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ExecResult r && pid == r.pid && truncated == r.truncated && exit.equals(r.exit)
                && java.util.Arrays.equals(stdout, r.stdout) && java.util.Arrays.equals(stderr, r.stderr);
    }

    @Override
    public int hashCode() {
        return Objects.hash(pid, truncated, exit, java.util.Arrays.hashCode(stdout), java.util.Arrays.hashCode(stderr));
    }

    @Override
    public String toString() {
        return "ExecResult[pid=" + pid + ", exit=" + exit + ", stdout=" + stdout.length + " bytes, stderr="
                + stderr.length + " bytes" + (truncated ? ", truncated" : "") + "]";
    }
}
