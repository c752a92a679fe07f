package dev.basalt.api;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What an image says about running commands in it: the defaults every exec gets unless the
 * request says otherwise (from an OCI image's config, a Dockerfile's ENV / WORKDIR / USER).
 *
 * @param env        environment variables, added to the guest's default environment
 * @param workingDir working directory (absolute), or "" for none ("/")
 * @param user       user to run as: a name, {@code uid}, {@code name:group} or {@code uid:gid}; "" for root
 * @param entrypoint the image's entrypoint (informational: Basalt runs the argv it is given)
 * @param cmd        the image's default command (informational)
 */
public record ImageConfig(Map<String, String> env, String workingDir, String user, List<String> entrypoint,
                          List<String> cmd) {
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern USER = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})?");

    public ImageConfig {
        env = Map.copyOf(Objects.requireNonNull(env, "env"));
        env.forEach((k, v) -> {
            if (!ENV_NAME.matcher(k).matches() || v.indexOf('\0') >= 0) {
                throw new BasaltException.InvalidArgument("image environment variable '" + k + "' is invalid");
            }
        });
        workingDir = workingDir == null ? "" : workingDir;
        if (!workingDir.isEmpty() && (!workingDir.startsWith("/") || workingDir.indexOf('\0') >= 0)) {
            throw new BasaltException.InvalidArgument("image working directory must be an absolute path, got '"
                    + workingDir + "'");
        }
        user = user == null ? "" : user;
        if (!user.isEmpty() && !USER.matcher(user).matches()) {
            throw new BasaltException.InvalidArgument("image user '" + user + "' is invalid: use name, uid, "
                    + "name:group or uid:gid");
        }
        entrypoint = List.copyOf(Objects.requireNonNull(entrypoint, "entrypoint"));
        cmd = List.copyOf(Objects.requireNonNull(cmd, "cmd"));
    }

    /** No defaults: root in "/", the guest's default environment. */
    public static ImageConfig empty() {
        return new ImageConfig(Map.of(), "", "", List.of(), List.of());
    }

    public ImageConfig withEnv(Map<String, String> newEnv) {
        return new ImageConfig(newEnv, workingDir, user, entrypoint, cmd);
    }

    public ImageConfig withWorkingDir(String dir) {
        return new ImageConfig(env, dir, user, entrypoint, cmd);
    }

    public ImageConfig withUser(String newUser) {
        return new ImageConfig(env, workingDir, newUser, entrypoint, cmd);
    }

    public ImageConfig withEntrypoint(List<String> newEntrypoint) {
        return new ImageConfig(env, workingDir, user, newEntrypoint, cmd);
    }

    public ImageConfig withCmd(List<String> newCmd) {
        return new ImageConfig(env, workingDir, user, entrypoint, newCmd);
    }
}
