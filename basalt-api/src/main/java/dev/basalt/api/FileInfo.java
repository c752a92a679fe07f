package dev.basalt.api;

import java.time.Instant;
import java.util.Objects;

/**
 * Metadata of one guest file.
 *
 * @param path     absolute guest path (for a directory listing: the entry's full path)
 * @param type     file, directory, symlink or other
 * @param mode     permission bits ({@code st_mode & 07777})
 * @param size     size in bytes
 * @param modified last modification time
 */
public record FileInfo(String path, FileType type, int mode, long size, Instant modified) {
    public FileInfo {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(modified, "modified");
        if (size < 0) {
            throw new IllegalArgumentException("size must be >= 0");
        }
    }

    /** The last path component. */
    public String name() {
        int slash = path.lastIndexOf('/');
        return slash < 0 || path.length() == 1 ? path : path.substring(slash + 1);
    }
}
