package dev.basalt.api;

/** How a guest process ended: a closed set, meant to be matched with a switch. */
public sealed interface ExitStatus {

    /** The process called exit with {@code code} (0–255). */
    record Exited(int code) implements ExitStatus {
        public Exited {
            if (code < 0 || code > 255) {
                throw new IllegalArgumentException("exit code must be 0..255, got " + code);
            }
        }
    }

    /** The process was killed by signal {@code signal}. */
    record Signaled(int signal) implements ExitStatus {
        public Signaled {
            if (signal < 1 || signal > 64) {
                throw new IllegalArgumentException("signal must be 1..64, got " + signal);
            }
        }
    }

    /** The exec's timeout expired; the process group was killed with SIGKILL. */
    record TimedOut() implements ExitStatus {}

    /** The shell convention: the exit code, 128 + signal, or 124 for a timeout (like timeout(1)). */
    default int shellCode() {
        return switch (this) {
            case Exited e -> e.code();
            case Signaled s -> 128 + s.signal();
            case TimedOut t -> 124;
        };
    }

    /** True only for {@code Exited(0)}. */
    default boolean success() {
        return this instanceof Exited(int code) && code == 0;
    }
}
