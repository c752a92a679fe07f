package dev.basalt.core;

import dev.basalt.api.BasaltException;

/** Validation of guest paths before they are sent to the agent (the agent checks again). */
final class GuestPaths {
    static final int MAX_LENGTH = 4096;

    private GuestPaths() {
    }

    /** Returns {@code path} if it is absolute, NUL-free, ≤ 4096 bytes and has no ".." component. */
    static String require(String path) {
        if (path == null || path.isEmpty()) {
            throw new BasaltException.InvalidArgument("guest path is empty: give an absolute path like /tmp/file");
        }
        if (!path.startsWith("/")) {
            throw new BasaltException.InvalidArgument("guest path '" + path + "' must be absolute (start with /)");
        }
        if (path.indexOf('\0') >= 0) {
            throw new BasaltException.InvalidArgument("guest path contains a NUL character");
        }
        if (path.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_LENGTH) {
            throw new BasaltException.InvalidArgument("guest path is longer than " + MAX_LENGTH + " bytes");
        }
        for (String part : path.split("/")) {
            if (part.equals("..")) {
                throw new BasaltException.InvalidArgument("guest path '" + path + "' must not contain '..'");
            }
        }
        return path;
    }

    /** {@code dir + "/" + name} without doubling the slash. */
    static String join(String dir, String name) {
        return dir.endsWith("/") ? dir + name : dir + "/" + name;
    }
}
