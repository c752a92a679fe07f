package dev.basalt.protocol;

/** Bits of the {@code EXEC} flags byte. */
public enum ExecFlag {
    /** The host streams stdin with {@code STDIN} / {@code STDIN_CLOSE}. */
    STDIN(0x01),
    /** Run on a new pseudo-terminal. */
    PTY(0x02),
    /** Do not start from the agent's default environment. */
    CLEAR_ENV(0x04),
    /** Run as the message's {@code uid} / {@code gid} (else as the agent's user, root). */
    USER(0x08);

    private final int bit;

    ExecFlag(int bit) {
        this.bit = bit;
    }

    /** The bit in the flags byte. */
    public int bit() {
        return bit;
    }
}
