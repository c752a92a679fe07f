package dev.basalt.protocol;

/** Bits of the {@code FILE_WRITE} flags byte. */
public enum FileWriteFlag {
    /** Create missing parent directories (mode 0755). */
    MKDIRS(0x01),
    /** Append to an existing file instead of replacing it. */
    APPEND(0x02),
    /** Open, create and rename as the message's {@code uid} / {@code gid}: its permissions, its files. */
    USER(0x04);

    private final int bit;

    FileWriteFlag(int bit) {
        this.bit = bit;
    }

    /** The bit in the flags byte. */
    public int bit() {
        return bit;
    }
}
