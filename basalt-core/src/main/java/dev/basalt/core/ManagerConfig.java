package dev.basalt.core;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of a {@link SandboxManager}.
 *
 * @param imagesDir        where guest images live ({@link ImageCatalog})
 * @param runRoot          where per-sandbox sockets and logs live ({@link RunRoot})
 * @param maxOutputBytes   buffered exec output kept per stream; more is discarded and flagged
 * @param operationTimeout deadline of file and metadata operations on the guest
 * @param vmsDieWithManager kill every VM when this process dies (embedded use)
 */
public record ManagerConfig(Path imagesDir, Path runRoot, int maxOutputBytes, Duration operationTimeout,
                            boolean vmsDieWithManager) {
    public ManagerConfig {
        Objects.requireNonNull(imagesDir, "imagesDir");
        Objects.requireNonNull(runRoot, "runRoot");
        Objects.requireNonNull(operationTimeout, "operationTimeout");
        if (maxOutputBytes < 0) {
            throw new IllegalArgumentException("maxOutputBytes must be >= 0");
        }
    }

    /** Images from {@link ImageCatalog#defaultImagesDir()}, run dir from {@link RunRoot#defaultPath()}, 16 MiB output, 5 min. */
    public static ManagerConfig defaults() {
        return new ManagerConfig(ImageCatalog.defaultImagesDir(), RunRoot.defaultPath(), 16 << 20,
                Duration.ofMinutes(5), true);
    }

    public ManagerConfig withImagesDir(Path dir) {
        return new ManagerConfig(dir, runRoot, maxOutputBytes, operationTimeout, vmsDieWithManager);
    }

    public ManagerConfig withRunRoot(Path dir) {
        return new ManagerConfig(imagesDir, dir, maxOutputBytes, operationTimeout, vmsDieWithManager);
    }

    public ManagerConfig withMaxOutputBytes(int bytes) {
        return new ManagerConfig(imagesDir, runRoot, bytes, operationTimeout, vmsDieWithManager);
    }
}
