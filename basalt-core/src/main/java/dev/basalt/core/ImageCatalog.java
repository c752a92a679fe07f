package dev.basalt.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.basalt.api.BasaltException;
import dev.basalt.api.SandboxSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds guest images: each is a directory {@code <imagesDir>/<name>/} holding {@code image.json}
 * (fields {@code kernel}, {@code initrd}, {@code acpi}, {@code cmdlineExtra}) and the files it names.
 * The project's build ({@code guest/image/build.sh}) creates the "default" image.
 */
public final class ImageCatalog {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path imagesDir;

    public ImageCatalog(Path imagesDir) {
        this.imagesDir = imagesDir;
    }

    public Path imagesDir() {
        return imagesDir;
    }

    /**
     * The image a spec boots: its named image, with the spec's kernel/initrd overrides applied.
     *
     * @throws BasaltException.InvalidArgument if the image or an override file does not exist
     */
    public GuestImage resolve(SandboxSpec spec) {
        GuestImage base = spec.kernel() != null && spec.initrd() != null
                ? new GuestImage(spec.image(), spec.kernel(), spec.initrd(), true, "")
                : load(spec.image());
        GuestImage image = new GuestImage(base.name(),
                spec.kernel() != null ? spec.kernel() : base.kernel(),
                spec.initrd() != null ? spec.initrd() : base.initrd(),
                base.acpi(), base.cmdlineExtra());
        requireFile(image.kernel(), "kernel");
        requireFile(image.initrd(), "initrd");
        return image;
    }

    /** Loads a named image from the catalog. */
    public GuestImage load(String name) {
        Path dir = imagesDir.resolve(name);
        Path manifest = dir.resolve("image.json");
        if (!Files.isRegularFile(manifest)) {
            throw new BasaltException.InvalidArgument("image '" + name + "' not found: no " + manifest
                    + " (build the default image with bin/basalt or guest/image/build.sh, or set basalt.images)");
        }
        try {
            JsonNode json = JSON.readTree(manifest.toFile());
            return new GuestImage(name,
                    dir.resolve(json.path("kernel").asText("vmlinux")),
                    dir.resolve(json.path("initrd").asText("initrd.img")),
                    json.path("acpi").asBoolean(true),
                    json.path("cmdlineExtra").asText(""));
        } catch (IOException e) {
            throw new BasaltException.InvalidArgument("image '" + name + "' has an unreadable manifest "
                    + manifest + ": " + e.getMessage(), e);
        }
    }

    private static void requireFile(Path file, String what) {
        if (!Files.isRegularFile(file)) {
            throw new BasaltException.InvalidArgument(what + " file " + file + " does not exist or is not a regular file");
        }
        if (!Files.isReadable(file)) {
            throw new BasaltException.InvalidArgument(what + " file " + file + " is not readable");
        }
    }

    /** The images directory from {@code basalt.images} / {@code BASALT_IMAGES}, or the default cache. */
    public static Path defaultImagesDir() {
        String configured = System.getProperty("basalt.images");
        if (configured == null || configured.isBlank() || configured.startsWith("${")) {
            configured = System.getenv("BASALT_IMAGES");
        }
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        String home = System.getenv("BASALT_HOME");
        if (home == null || home.isBlank()) {
            String cache = System.getenv("XDG_CACHE_HOME");
            home = (cache == null || cache.isBlank() ? System.getProperty("user.home") + "/.cache" : cache) + "/basalt";
        }
        return Path.of(home, "images");
    }
}
