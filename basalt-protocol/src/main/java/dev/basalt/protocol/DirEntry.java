package dev.basalt.protocol;

import java.util.Objects;

/**
 * One entry of a {@code DIR_ENTRIES} frame.
 *
 * @param name    file name (no NUL)
 * @param type    file type
 * @param mode    permission bits (u32)
 * @param size    size in bytes (u64, unsigned)
 * @param mtimeMs modification time in milliseconds since the epoch
 */
public record DirEntry(String name, FileType type, long mode, long size, long mtimeMs) {
    public DirEntry {
        Checks.str("name", name);
        Objects.requireNonNull(type, "type");
        Checks.u32("mode", mode);
    }
}
