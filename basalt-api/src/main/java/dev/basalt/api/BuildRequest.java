package dev.basalt.api;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * A Dockerfile build.
 *
 * @param dockerfile the Dockerfile (a file on the builder's host)
 * @param context    the directory COPY and ADD read from
 * @param name       the name to store the built image under
 * @param buildArgs  values of the Dockerfile's ARGs ({@code --build-arg})
 * @param diskMib    the disk the RUN steps run with, MiB (0: the default, 4096); the built image is shrunk
 *                   to what its files need
 * @param noCache    run every step again instead of reusing the results of earlier builds
 */
public record BuildRequest(Path dockerfile, Path context, String name, Map<String, String> buildArgs, int diskMib,
                           boolean noCache) {
    public BuildRequest {
        Objects.requireNonNull(dockerfile, "dockerfile");
        Objects.requireNonNull(context, "context");
        ImageInfo.requireValidName(name);
        buildArgs = Map.copyOf(buildArgs);
        if (diskMib < 0 || diskMib > SandboxSpec.MAX_DISK_MIB) {
            throw new BasaltException.InvalidArgument("build disk size must be between 1 and " + SandboxSpec.MAX_DISK_MIB
                    + " MiB (0: the default), got " + diskMib);
        }
    }

    /** {@code context/Dockerfile} stored as {@code name}, no build arguments, the default disk, cached steps reused. */
    public static BuildRequest of(Path context, String name) {
        return new BuildRequest(context.resolve("Dockerfile"), context, name, Map.of(), 0, false);
    }
}
