package dev.basalt.server;

import dev.basalt.api.BasaltException;

/**
 * Checks of request fields that the port cannot see as wrong before it looks anything up: an empty id
 * is a malformed request (INVALID_ARGUMENT), not an unknown sandbox (NOT_FOUND).
 */
final class Validation {
    /** Longest id or name accepted on the wire. */
    static final int MAX_ID_LENGTH = 128;

    private Validation() {
    }

    /** {@code id} if it can name a sandbox: 1..128 printable characters. */
    static String id(String id) {
        return name(id, "sandbox id", " (basalt ls lists them)");
    }

    /** {@code name} if it can name an existing snapshot (the catalog checks the exact rules). */
    static String snapshotName(String name) {
        return name(name, "snapshot name", " (basalt snapshots lists them)");
    }

    /** {@code name} if it can name a new snapshot (the catalog checks the exact rules). */
    static String newSnapshotName(String name) {
        return name(name, "snapshot name", "");
    }

    /**
     * {@code value} if it is 1..128 printable characters; {@code what} names it in the error, {@code hint}
     * (appended to the error for an empty value) says where to find one.
     */
    private static String name(String value, String what, String hint) {
        if (value == null || value.isEmpty()) {
            throw new BasaltException.InvalidArgument("the " + what + " is empty: give the " + what + hint);
        }
        if (value.length() > MAX_ID_LENGTH || !value.chars().allMatch(c -> c > 0x20 && c != 0x7f)) {
            throw new BasaltException.InvalidArgument("the " + what + " '" + printable(value) + "' is malformed: "
                    + "at most " + MAX_ID_LENGTH + " printable characters without spaces");
        }
        return value;
    }

    /** {@code value} if it is not negative ({@code 0} means "the default" on the wire). */
    static int nonNegative(int value, String what) {
        if (value < 0) {
            throw new BasaltException.InvalidArgument(what + " must not be negative, got " + value);
        }
        return value;
    }

    /** {@code d} if it is longer than zero. */
    static java.time.Duration positive(java.time.Duration d, String what) {
        if (d.isNegative() || d.isZero()) {
            throw new BasaltException.InvalidArgument(what + " must be positive, got " + d);
        }
        return d;
    }

    /** {@code d} if it is not negative. */
    static java.time.Duration notNegative(java.time.Duration d, String what) {
        if (d.isNegative()) {
            throw new BasaltException.InvalidArgument(what + " must not be negative, got " + d);
        }
        return d;
    }

    /** A file mode: permission and set-id bits only. */
    static int mode(int mode) {
        if ((mode & ~07777) != 0) {
            throw new BasaltException.InvalidArgument("file mode must be within 07777, got 0" + Integer.toOctalString(mode));
        }
        return mode;
    }

    private static String printable(String s) {
        String cut = s.length() > 40 ? s.substring(0, 40) + "…" : s;
        StringBuilder b = new StringBuilder();
        cut.codePoints().forEach(c -> b.append(c < 0x20 || c == 0x7f ? "\\x" + String.format("%02x", c) : Character.toString(c)));
        return b.toString();
    }
}
