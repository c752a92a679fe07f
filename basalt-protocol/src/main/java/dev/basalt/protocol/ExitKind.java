package dev.basalt.protocol;

/** How a process ended ({@code EXIT.kind}). */
public enum ExitKind {
    /** Exited normally; the value is the exit code. */
    EXITED,
    /** Killed by a signal; the value is the signal number. */
    SIGNALED,
    /** The exec timeout expired and the agent killed the process group; the value is 9. */
    TIMED_OUT;

    /** The u8 value on the wire. */
    public int code() {
        return ordinal();
    }
}
