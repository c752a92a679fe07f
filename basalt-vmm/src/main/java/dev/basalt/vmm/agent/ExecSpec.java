package dev.basalt.vmm.agent;

import dev.basalt.protocol.ExecFlag;
import dev.basalt.protocol.Message;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What to run in the guest.
 *
 * @param argv        program and arguments; not empty; {@code argv[0]} without {@code /} is looked up in PATH
 * @param env         variables added to (overriding) the agent's defaults; names not empty, without {@code =}
 * @param cwd         working directory; empty means {@code /}
 * @param timeout     the agent kills the process group after this long ({@link Duration#ZERO} = never)
 * @param stdinStream true to stream stdin with {@link ExecSession#writeStdin}; otherwise stdin is /dev/null
 * @param pty         run on a pseudo-terminal of {@code rows}×{@code cols} (0×0 = 24×80); no separate stderr
 * @param rows        PTY rows (u16)
 * @param cols        PTY columns (u16)
 * @param clearEnv    start from an empty environment instead of the agent's defaults
 * @param user        the guest user it runs as; null for the agent's own (root)
 */
public record ExecSpec(List<String> argv, Map<String, String> env, String cwd, Duration timeout,
                       boolean stdinStream, boolean pty, int rows, int cols, boolean clearEnv,
                       dev.basalt.api.GuestUser user) {

    public ExecSpec {
        argv = List.copyOf(Objects.requireNonNull(argv, "argv"));
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("argv must name a program");
        }
        for (String a : argv) {
            noNul("argv element", a);
        }
        Objects.requireNonNull(env, "env");
        LinkedHashMap<String, String> copy = new LinkedHashMap<>();
        env.forEach((k, v) -> {
            if (k == null || k.isEmpty() || k.indexOf('=') >= 0) {
                throw new IllegalArgumentException("environment variable name must be non-empty without '=': " + k);
            }
            copy.put(noNul("environment name", k), noNul("value of " + k, v));
        });
        env = Collections.unmodifiableMap(copy);
        noNul("cwd", Objects.requireNonNull(cwd, "cwd"));
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.toMillis() > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("timeout must be between 0 and 2^32-1 ms: " + timeout);
        }
        if (rows < 0 || rows > 0xFFFF || cols < 0 || cols > 0xFFFF) {
            throw new IllegalArgumentException("rows and cols must be 0..65535: " + rows + "x" + cols);
        }
    }

    /** Runs {@code argv} in {@code /} with the default environment, no timeout, no stdin, no PTY. */
    public static ExecSpec of(String... argv) {
        return new ExecSpec(List.of(argv), Map.of(), "", Duration.ZERO, false, false, 0, 0, false, null);
    }

    /** Runs {@code /bin/sh -c script}. */
    public static ExecSpec shell(String script) {
        return of("/bin/sh", "-c", script);
    }

    /** A copy with environment {@code newEnv}. */
    public ExecSpec withEnv(Map<String, String> newEnv) {
        return new ExecSpec(argv, newEnv, cwd, timeout, stdinStream, pty, rows, cols, clearEnv, user);
    }

    /** A copy running in {@code newCwd}. */
    public ExecSpec withCwd(String newCwd) {
        return new ExecSpec(argv, env, newCwd, timeout, stdinStream, pty, rows, cols, clearEnv, user);
    }

    /** A copy the agent kills after {@code newTimeout} (ZERO = never). */
    public ExecSpec withTimeout(Duration newTimeout) {
        return new ExecSpec(argv, env, cwd, newTimeout, stdinStream, pty, rows, cols, clearEnv, user);
    }

    /** A copy that streams stdin. */
    public ExecSpec withStdin() {
        return new ExecSpec(argv, env, cwd, timeout, true, pty, rows, cols, clearEnv, user);
    }

    /** A copy on a PTY of {@code newRows}×{@code newCols}. */
    public ExecSpec withPty(int newRows, int newCols) {
        return new ExecSpec(argv, env, cwd, timeout, stdinStream, true, newRows, newCols, clearEnv, user);
    }

    /** A copy that runs as {@code newUser} (null: root). */
    public ExecSpec withUser(dev.basalt.api.GuestUser newUser) {
        return new ExecSpec(argv, env, cwd, timeout, stdinStream, pty, rows, cols, clearEnv, newUser);
    }

    /** A copy that starts from an empty environment. */
    public ExecSpec withClearEnv() {
        return new ExecSpec(argv, env, cwd, timeout, stdinStream, pty, rows, cols, true, user);
    }

    /** The {@code EXEC} request for this spec. */
    Message.Exec toMessage() {
        List<String> vars = new ArrayList<>(env.size());
        env.forEach((k, v) -> vars.add(k + "=" + v));
        EnumSet<ExecFlag> flags = EnumSet.noneOf(ExecFlag.class);
        if (stdinStream) {
            flags.add(ExecFlag.STDIN);
        }
        if (pty) {
            flags.add(ExecFlag.PTY);
        }
        if (clearEnv) {
            flags.add(ExecFlag.CLEAR_ENV);
        }
        if (user != null) {
            flags.add(ExecFlag.USER);
        }
        return new Message.Exec(argv, vars, cwd, timeout.toMillis(), flags, rows, cols,
                user == null ? 0 : user.uid(), user == null ? 0 : user.gid());
    }

    private static String noNul(String what, String s) {
        if (Objects.requireNonNull(s, what).indexOf('\0') >= 0) {
            throw new IllegalArgumentException(what + " must not contain NUL: " + s.replace('\0', '?'));
        }
        return s;
    }
}
