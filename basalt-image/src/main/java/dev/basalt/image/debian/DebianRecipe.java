package dev.basalt.image.debian;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ImageConfig;
import dev.basalt.image.oci.Digest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * An image defined by a Debian suite and a package list, built with {@code mmdebstrap}: a
 * {@code minbase} system with the packages, then the recipe's commands run in it (chrooted).
 * Its inputs hash names the result: the same recipe is built once.
 *
 * @param suite    Debian suite ({@code bookworm})
 * @param mirrors  apt sources: the first is the mirror of the suite, e.g. {@code http://deb.debian.org/debian};
 *                 more entries are whole {@code deb …} lines (security updates)
 * @param packages packages to install besides the {@code minbase} set
 * @param commands shell commands run in the new system (chrooted) after the packages are in
 * @param config   exec defaults of the image
 */
public record DebianRecipe(String suite, List<String> mirrors, List<String> packages, List<String> commands,
                           ImageConfig config) {
    private static final Pattern SUITE = Pattern.compile("[a-z][a-z0-9-]{1,31}");
    private static final Pattern PACKAGE = Pattern.compile("[a-z0-9][a-z0-9+.-]{0,127}");
    /** Bumped when the way a recipe becomes an image changes. */
    static final String FORMAT = "basalt-debian-1";

    public DebianRecipe {
        if (suite == null || !SUITE.matcher(suite).matches()) {
            throw new BasaltException.InvalidArgument("invalid Debian suite '" + suite + "'");
        }
        mirrors = List.copyOf(mirrors);
        if (mirrors.isEmpty()) {
            throw new BasaltException.InvalidArgument("a Debian recipe needs a mirror");
        }
        packages = List.copyOf(packages);
        for (String p : packages) {
            if (!PACKAGE.matcher(p).matches()) {
                throw new BasaltException.InvalidArgument("invalid Debian package name '" + p + "'");
            }
        }
        commands = List.copyOf(commands);
        Objects.requireNonNull(config, "config");
    }

    /**
     * The image Basalt ships as {@code base}: Debian 12 with bash, coreutils, python3 with pip and
     * venv, git, curl, CA certificates and procps, and a user {@code user} (uid 1000, home
     * /home/user) besides root. Documentation, man pages and translations are left out.
     */
    public static DebianRecipe base() {
        String mirror = System.getenv().getOrDefault("BASALT_DEBIAN_MIRROR", "http://deb.debian.org/debian");
        String security = System.getenv().getOrDefault("BASALT_DEBIAN_SECURITY", "http://deb.debian.org/debian-security");
        return new DebianRecipe("bookworm",
                List.of(mirror, "deb " + security + " bookworm-security main", "deb " + mirror + " bookworm-updates main"),
                List.of("bash", "coreutils", "python3", "python3-pip", "python3-venv", "git", "curl",
                        "ca-certificates", "procps"),
                List.of("useradd --create-home --shell /bin/bash --uid 1000 --user-group user"),
                new ImageConfig(Map.of("LANG", "C.UTF-8"), "", "", List.of(), List.of("bash")));
    }

    /** The hash of everything the image is made from (with the mmdebstrap version that makes it). */
    public String inputsHash(String mmdebstrapVersion) {
        String inputs = String.join("\n", FORMAT, "suite " + suite, "mirrors " + mirrors, "packages " + packages,
                "commands " + commands, "config " + config, "mmdebstrap " + mmdebstrapVersion);
        return Digest.sha256(inputs.getBytes(StandardCharsets.UTF_8)).hex().substring(0, 32);
    }
}
