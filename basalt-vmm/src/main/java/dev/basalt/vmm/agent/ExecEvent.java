package dev.basalt.vmm.agent;

import dev.basalt.protocol.Bytes;
import dev.basalt.protocol.ExitKind;
import java.util.Objects;

/**
 * What happens to a running process, in order: {@link Started}, any number of
 * {@link Stdout} / {@link Stderr} chunks, then exactly one {@link Exited}.
 */
public sealed interface ExecEvent {

    /** The process runs with this pid (in the guest). */
    record Started(int pid) implements ExecEvent {
    }

    /** A chunk of standard output (or of terminal output with a PTY). */
    record Stdout(Bytes data) implements ExecEvent {
        public Stdout {
            Objects.requireNonNull(data, "data");
        }
    }

    /** A chunk of standard error. */
    record Stderr(Bytes data) implements ExecEvent {
        public Stderr {
            Objects.requireNonNull(data, "data");
        }
    }

    /**
     * The process ended: {@code value} is the exit code ({@link ExitKind#EXITED}), the signal
     * ({@link ExitKind#SIGNALED}) or 9 ({@link ExitKind#TIMED_OUT}).
     */
    record Exited(ExitKind kind, int value) implements ExecEvent {
        public Exited {
            Objects.requireNonNull(kind, "kind");
        }

        /** True when the process exited with code 0. */
        public boolean success() {
            return kind == ExitKind.EXITED && value == 0;
        }
    }
}
