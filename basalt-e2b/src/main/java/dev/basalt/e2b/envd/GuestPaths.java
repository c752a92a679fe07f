package dev.basalt.e2b.envd;

import dev.basalt.api.BasaltException;
import java.util.ArrayDeque;
import java.util.Deque;

/** Guest paths as E2B clients write them: absolute, relative to the home directory, or {@code ~/...}. */
final class GuestPaths {
    private GuestPaths() {
    }

    /**
     * The absolute, normalized form of {@code path} ('.' and '..' resolved lexically, never above '/').
     *
     * @throws BasaltException.InvalidArgument for an empty path or one containing NUL
     */
    static String resolve(String path, String home) {
        if (path == null || path.isEmpty()) {
            throw new BasaltException.InvalidArgument("path is empty: give an absolute path or one relative to the home directory");
        }
        if (path.indexOf('\0') >= 0) {
            throw new BasaltException.InvalidArgument("path contains a NUL character");
        }
        String full;
        if (path.equals("~")) {
            full = home;
        } else if (path.startsWith("~/")) {
            full = home + path.substring(1);
        } else if (path.startsWith("/")) {
            full = path;
        } else {
            full = home + "/" + path;
        }
        Deque<String> parts = new ArrayDeque<>();
        for (String part : full.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                parts.pollLast();
            } else {
                parts.addLast(part);
            }
        }
        return "/" + String.join("/", parts);
    }

    /** The last component of an absolute path ("/" for the root). */
    static String name(String path) {
        int slash = path.lastIndexOf('/');
        return slash < 0 || path.length() == 1 ? path : path.substring(slash + 1);
    }

    /** The parent of an absolute path ("/" for the root and its children). */
    static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? "/" : path.substring(0, slash);
    }
}
