package dev.basalt.api;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A command to run in a sandbox.
 *
 * @param argv      program and arguments; argv[0] without '/' is looked up in the guest's PATH
 * @param env       environment variables added to (overriding) the guest's default environment
 * @param cwd       working directory (absolute guest path); null or empty means "/"
 * @param stdin     bytes fed to the process's stdin, then closed; null means stdin is /dev/null
 *                  (for interactive stdin use {@link Sandboxes#start})
 * @param timeout   kill the process group after this long (exit status {@link ExitStatus.TimedOut});
 *                  null means no timeout
 * @param pty       run on a pseudo-terminal (stdout carries the terminal output, no stderr)
 * @param user      the guest user it runs as (its uid, gid and that gid as its only group; the
 *                  environment is the caller's to set: HOME, USER...); null runs it as root
 */
public record ExecRequest(List<String> argv, Map<String, String> env, String cwd, byte[] stdin,
                          Duration timeout, boolean pty, GuestUser user) {

    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    public ExecRequest {
        Objects.requireNonNull(argv, "argv");
        if (argv.isEmpty()) {
            throw new BasaltException.InvalidArgument("argv is empty: give at least the program to run");
        }
        argv = List.copyOf(argv);
        for (String arg : argv) {
            if (arg.indexOf('\0') >= 0) {
                throw new BasaltException.InvalidArgument("argv contains a NUL character");
            }
        }
        if (argv.getFirst().isEmpty()) {
            throw new BasaltException.InvalidArgument("argv[0] is empty: give the program to run");
        }
        env = Map.copyOf(Objects.requireNonNull(env, "env"));
        env.forEach((k, v) -> {
            if (!ENV_NAME.matcher(k).matches()) {
                throw new BasaltException.InvalidArgument("environment variable name '" + k + "' is invalid");
            }
            if (v.indexOf('\0') >= 0) {
                throw new BasaltException.InvalidArgument("environment variable " + k + " contains a NUL character");
            }
        });
        cwd = cwd == null || cwd.isEmpty() ? "/" : cwd;
        if (!cwd.startsWith("/")) {
            throw new BasaltException.InvalidArgument("cwd must be an absolute guest path, got '" + cwd + "'");
        }
        stdin = stdin == null ? null : stdin.clone();
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new BasaltException.InvalidArgument("timeout must be positive, got " + timeout);
        }
        if (timeout != null && timeout.toMillis() > 0xFFFF_FFFFL) {
            throw new BasaltException.InvalidArgument("timeout is too long (max ~49 days), got " + timeout);
        }
    }

    /** A command with no env, cwd "/", no stdin, no timeout. */
    public static ExecRequest of(String... argv) {
        return new ExecRequest(List.of(argv), Map.of(), "/", null, null, false, null);
    }

    /** A command with no env, cwd "/", no stdin, no timeout. */
    public static ExecRequest of(List<String> argv) {
        return new ExecRequest(argv, Map.of(), "/", null, null, false, null);
    }

    public ExecRequest withEnv(Map<String, String> env) {
        return new ExecRequest(argv, env, cwd, stdin, timeout, pty, user);
    }

    public ExecRequest withCwd(String cwd) {
        return new ExecRequest(argv, env, cwd, stdin, timeout, pty, user);
    }

    public ExecRequest withStdin(byte[] stdin) {
        return new ExecRequest(argv, env, cwd, stdin, timeout, pty, user);
    }

    public ExecRequest withTimeout(Duration timeout) {
        return new ExecRequest(argv, env, cwd, stdin, timeout, pty, user);
    }

    public ExecRequest withPty(boolean pty) {
        return new ExecRequest(argv, env, cwd, stdin, timeout, pty, user);
    }

    /** Runs as {@code user} (null: as root). */
    public ExecRequest withUser(GuestUser user) {
        return new ExecRequest(argv, env, cwd, stdin, timeout, pty, user);
    }

    @Override
    public byte[] stdin() {
        return stdin == null ? null : stdin.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ExecRequest r && argv.equals(r.argv) && env.equals(r.env) && cwd.equals(r.cwd)
                && Arrays.equals(stdin, r.stdin) && Objects.equals(timeout, r.timeout) && pty == r.pty
                && Objects.equals(user, r.user);
    }

    @Override
    public int hashCode() {
        return Objects.hash(argv, env, cwd, Arrays.hashCode(stdin), timeout, pty, user);
    }

    @Override
    public String toString() {
        return "ExecRequest[argv=" + argv + ", env=" + env.keySet() + ", cwd=" + cwd
                + ", stdin=" + (stdin == null ? "none" : stdin.length + " bytes") + ", timeout=" + timeout
                + ", pty=" + pty + (user == null ? "" : ", user=" + user.uid() + ":" + user.gid()) + "]";
    }
}
