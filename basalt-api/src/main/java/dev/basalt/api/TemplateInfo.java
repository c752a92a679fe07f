package dev.basalt.api;

import java.time.Instant;
import java.util.Objects;

/**
 * One template: an image booted once at one size and saved, from which sandboxes of that shape are
 * cloned (see {@link Sandboxes#templates()}).
 *
 * @param key        its key (a hash of the image identity, the VMM version, the accelerator and the size)
 * @param image      the image's name
 * @param vcpus      virtual CPUs of its clones
 * @param memoryMib  memory of its clones
 * @param shmBytes   memory it holds on the shared-memory filesystem now (its RAM file's allocated
 *                   pages plus its device state), which grows as its clones fault pages in
 * @param createdAt  when it was saved
 * @param lastUsedAt when a sandbox was last cloned from it
 */
public record TemplateInfo(String key, String image, int vcpus, int memoryMib, long shmBytes, Instant createdAt,
                           Instant lastUsedAt) {
    public TemplateInfo {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(lastUsedAt, "lastUsedAt");
        if (shmBytes < 0) {
            throw new BasaltException.InvalidArgument("shmBytes must not be negative, got " + shmBytes);
        }
    }
}
