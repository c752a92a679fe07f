package dev.basalt.e2b;

import dev.basalt.api.BasaltException;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What the E2B API adds to a Basalt sandbox, kept beside it for as long as it exists.
 *
 * @param sandboxId           the Basalt sandbox id, which is also the E2B sandbox id
 * @param accessToken         the token every envd request for this sandbox must carry ({@code X-Access-Token})
 * @param templateId          the template the client asked for (a Basalt image or an alias of one)
 * @param envVars             the sandbox's default environment for commands started through envd
 * @param autoPause           pause instead of removing the sandbox when its timeout runs out
 * @param allowInternetAccess what the client asked for, null if it did not say
 * @param pauseAt             for an auto-pause sandbox: when its timeout runs out (it then has no Basalt
 *                            time to live, {@link AutoPause} pauses it); null otherwise
 */
public record E2bSandbox(String sandboxId, String accessToken, String templateId, Map<String, String> envVars,
                         boolean autoPause, Boolean allowInternetAccess, java.time.Instant pauseAt) {
    private static final Pattern ID = Pattern.compile("[a-z0-9]{1,64}");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    public E2bSandbox {
        Objects.requireNonNull(sandboxId, "sandboxId");
        if (!ID.matcher(sandboxId).matches()) {
            throw new BasaltException.InvalidArgument("sandbox id '" + sandboxId + "' is invalid: use 1-64 of [a-z0-9]");
        }
        Objects.requireNonNull(accessToken, "accessToken");
        Objects.requireNonNull(templateId, "templateId");
        envVars = envVars == null ? Map.of() : Map.copyOf(envVars);
        envVars.forEach((k, v) -> {
            if (!ENV_NAME.matcher(k).matches()) {
                throw new BasaltException.InvalidArgument("environment variable name '" + k
                        + "' is invalid: use letters, digits and '_', not starting with a digit");
            }
            if (v.indexOf('\0') >= 0) {
                throw new BasaltException.InvalidArgument("environment variable " + k + " contains a NUL character");
            }
        });
    }

    /** This record with another pause time. */
    public E2bSandbox withPauseAt(java.time.Instant when) {
        return new E2bSandbox(sandboxId, accessToken, templateId, envVars, autoPause, allowInternetAccess, when);
    }

    /** True if {@code id} has the shape of a sandbox id (so it can be a file name and a host label). */
    public static boolean isValidId(String id) {
        return id != null && ID.matcher(id).matches();
    }
}
