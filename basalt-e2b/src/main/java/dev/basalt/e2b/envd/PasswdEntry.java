package dev.basalt.e2b.envd;

import dev.basalt.api.BasaltException;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A user of the guest, from its {@code /etc/passwd} (the port's {@link dev.basalt.api.GuestUser} is
 * its numbers).
 *
 * @param name  login name
 * @param uid   user id
 * @param gid   primary group id
 * @param home  home directory (relative paths resolve against it; commands start in it)
 * @param shell login shell
 */
public record PasswdEntry(String name, int uid, int gid, String home, String shell) {
    private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_.-]{0,31}\\$?");

    public static final PasswdEntry ROOT = new PasswdEntry("root", 0, 0, "/root", "/bin/sh");

    public PasswdEntry {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(home, "home");
        Objects.requireNonNull(shell, "shell");
        if (uid < 0 || gid < 0) {
            throw new IllegalArgumentException("uid and gid must be >= 0");
        }
        if (!home.startsWith("/")) {
            home = "/";
        }
    }

    /** What commands run as and files are written as: null for root (the agent's own user). */
    dev.basalt.api.GuestUser asGuestUser() {
        return uid == 0 ? null : new dev.basalt.api.GuestUser(uid, gid);
    }

    /** The login environment: HOME, USER, LOGNAME, SHELL. */
    java.util.Map<String, String> loginEnv() {
        return java.util.Map.of("HOME", home, "USER", name, "LOGNAME", name, "SHELL", shell);
    }

    /** Checks a user name's shape before it is looked up. */
    static String checkName(String name) {
        if (!NAME.matcher(name).matches()) {
            throw new BasaltException.InvalidArgument("user name '" + name + "' is invalid: use up to 32 of [a-z0-9_.-], starting with a letter or '_'");
        }
        return name;
    }

    /** Parses one {@code /etc/passwd} line; null if it is not a valid entry. */
    static PasswdEntry parse(String line) {
        String[] f = line.split(":", -1);
        if (f.length < 7 || f[0].isEmpty()) {
            return null;
        }
        try {
            return new PasswdEntry(f[0], Integer.parseInt(f[2]), Integer.parseInt(f[3]), f[5].isEmpty() ? "/" : f[5],
                    f[6].isEmpty() ? "/bin/sh" : f[6]);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
