package dev.basalt.api;

/** Kind of a file in the guest. Symlinks are reported as such, never followed. */
public enum FileType {
    FILE, DIRECTORY, SYMLINK, OTHER
}
