package dev.basalt.protocol;

/** The type of a file in {@code STAT_RESULT} and {@code DIR_ENTRIES}. */
public enum FileType {
    FILE, DIRECTORY, SYMLINK, OTHER;

    /** The u8 value on the wire. */
    public int code() {
        return ordinal();
    }
}
