package dev.basalt.api;

import java.time.Instant;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A named checkpoint of a sandbox in the snapshot catalog.
 *
 * @param name          unique name, {@code [a-zA-Z0-9][a-zA-Z0-9._-]{0,62}}
 * @param sourceSandbox id of the sandbox it was taken from
 * @param image         the image that sandbox booted
 * @param imageId       identity of the exact kernel + initrd (a restore needs the same)
 * @param vmmVersion    the QEMU version that wrote it (a restore needs the same)
 * @param vcpus         vCPUs of the source (restored sandboxes get the same)
 * @param memoryMib     memory of the source (restored sandboxes get the same)
 * @param createdAt     when it was taken
 * @param sizeBytes     size of the saved state on disk
 * @param sha256        content hash of the saved state, checked on every restore
 */
public record SnapshotInfo(String name, String sourceSandbox, String image, String imageId, String vmmVersion,
                           int vcpus, int memoryMib, Instant createdAt, long sizeBytes, String sha256) {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}");

    public SnapshotInfo {
        requireValidName(name);
        Objects.requireNonNull(sourceSandbox, "sourceSandbox");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(imageId, "imageId");
        Objects.requireNonNull(vmmVersion, "vmmVersion");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(sha256, "sha256");
    }

    /** Throws {@link BasaltException.InvalidArgument} unless {@code name} is a valid snapshot name. */
    public static String requireValidName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new BasaltException.InvalidArgument("snapshot name '" + name + "' is invalid: use 1-63 of "
                    + "[a-zA-Z0-9._-], starting with a letter or digit");
        }
        return name;
    }
}
