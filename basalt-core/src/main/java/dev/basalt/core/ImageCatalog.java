package dev.basalt.core;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.basalt.api.BasaltException;
import dev.basalt.api.ImageInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.image.ImageService;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds guest images: each is a directory {@code <imagesDir>/<name>/} holding {@code image.json}
 * (fields {@code kernel}, {@code initrd}, {@code acpi}, {@code cmdlineExtra}) and the files it names.
 * The project's build ({@code guest/image/build.sh}) creates the "default" image.
 */
public final class ImageCatalog {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ImageCatalog.class);

    /** The boot image (kernel and initramfs with the agent) images of the image store boot with. */
    static final String DISK_BOOT_IMAGE = "default";

    private final Path imagesDir;
    private final ImageService store;
    private final Map<String, Loaded> cache = new ConcurrentHashMap<>();

    /** A catalog of the boot images in {@code imagesDir} only. */
    public ImageCatalog(Path imagesDir) {
        this(imagesDir, null);
    }

    /**
     * A catalog of the boot images in {@code imagesDir} and the root file systems of {@code store}
     * (null for none): a name that is no boot image is looked up in the store.
     */
    public ImageCatalog(Path imagesDir, ImageService store) {
        this.imagesDir = imagesDir;
        this.store = store;
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
        if (!isBootImage(spec.image()) && store != null) {
            if (spec.kernel() != null || spec.initrd() != null) {
                throw new BasaltException.InvalidArgument("--kernel and --initrd replace a boot image's files; image '"
                        + spec.image() + "' is a root file system (it boots with image " + DISK_BOOT_IMAGE + ")");
            }
            return fromStore(spec);
        }
        if (spec.diskMib() > 0) {
            throw new BasaltException.InvalidArgument("image '" + spec.image() + "' keeps its root file system in RAM:"
                    + " a disk size applies to images of the image store (base, pulled, imported or built ones)");
        }
        if (spec.kernel() == null && spec.initrd() == null) {
            return load(spec.image());
        }
        if (spec.kernel() != null) {
            requireFile(spec.kernel(), "kernel");
        }
        if (spec.initrd() != null) {
            requireFile(spec.initrd(), "initrd");
        }
        boolean both = spec.kernel() != null && spec.initrd() != null;
        GuestImage base = both ? null : load(spec.image());
        return GuestImage.of(spec.image(),
                spec.kernel() != null ? spec.kernel() : base.kernel(),
                spec.initrd() != null ? spec.initrd() : base.initrd(),
                base == null || base.acpi(), base == null ? "" : base.cmdlineExtra());
    }

    private boolean isBootImage(String name) {
        return !name.contains("/") && !name.contains(":") && Files.isRegularFile(imagesDir.resolve(name).resolve("image.json"));
    }

    /**
     * An image of the store: the {@value #DISK_BOOT_IMAGE} boot image with the store's root file
     * system on a disk. The shipped {@code base} is built on its first use.
     */
    private GuestImage fromStore(SandboxSpec spec) {
        String name = spec.image();
        ImageInfo info = store.store().find(name).orElse(null);
        if (info == null && name.equals(ImageService.BASE)) {
            info = store.ensureBase(line -> log.info("{}", line));
        }
        if (info == null) {
            List<String> boot = names();
            List<String> stored = store.list().stream().map(ImageInfo::name).toList();
            throw new BasaltException.InvalidArgument("image '" + name + "' not found: no boot image of that name in "
                    + imagesDir + (boot.isEmpty() ? "" : " (images there: " + String.join(", ", boot) + ")")
                    + " and none in the image store" + (stored.isEmpty() ? "" : " (it has: " + String.join(", ", stored) + ")")
                    + "; list them with `basalt images`, and pull, import or build it first");
        }
        long fsBytes = store.store().fileSystemBytes(name);
        GuestImage boot = load(DISK_BOOT_IMAGE);
        GuestImage image = boot.withRoot(name, new GuestImage.RootImage(info.id(), store.store().rootfs(info), fsBytes,
                info.config()));
        long disk = image.diskBytes(spec);
        if (disk < fsBytes) {
            throw new BasaltException.InvalidArgument("image '" + name + "' holds a " + (fsBytes >> 20) + " MiB file system:"
                    + " its disk must be at least that big, got " + (disk >> 20) + " MiB");
        }
        return image;
    }

    /** The image store behind this catalog, or null. */
    public ImageService store() {
        return store;
    }

    /** A loaded image and the manifest file (inode and modification time) it came from. */
    private record Loaded(GuestImage image, Object manifestKey, FileTime modified) {}

    /** The names of the images in the catalog (its entries with a manifest, built-hash directories left out). */
    public List<String> names() {
        try (var entries = Files.list(imagesDir)) {
            return entries.filter(e -> Files.isRegularFile(e.resolve("image.json")))
                    .map(e -> e.getFileName().toString())
                    .filter(n -> !n.startsWith(".") && !n.matches(".+-[0-9a-f]{16}")).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /**
     * Loads a named image from the catalog. Images are cached; a cached one is reused while the
     * name still leads to the same, unmodified manifest (a rebuilt image re-points the name's
     * symlink to a new directory, so its manifest is another file), which costs one stat.
     */
    public GuestImage load(String name) {
        Path dir = imagesDir.resolve(name);
        Path manifest = dir.resolve("image.json");
        Loaded cached = cache.get(name);
        try {
            if (cached != null) {
                BasicFileAttributes now = Files.readAttributes(manifest, BasicFileAttributes.class);
                if (now.lastModifiedTime().equals(cached.modified()) && Objects.equals(now.fileKey(), cached.manifestKey())) {
                    return cached.image();
                }
            }
        } catch (IOException e) {
            cache.remove(name);
        }
        if (!Files.isRegularFile(manifest)) {
            List<String> known = names();
            throw new BasaltException.InvalidArgument("image '" + name + "' not found in " + imagesDir + (known.isEmpty()
                    ? ", which holds no image (build the default image with bin/basalt or guest/image/build.sh, or set "
                    + "basalt.images)" : "; images there: " + String.join(", ", known)));
        }
        try {
            Path realDir = dir.toRealPath();
            BasicFileAttributes seen = Files.readAttributes(manifest, BasicFileAttributes.class);
            JsonNode json = JSON.readTree(manifest.toFile());
            Path kernel = realDir.resolve(json.path("kernel").asText("vmlinux"));
            Path initrd = realDir.resolve(json.path("initrd").asText("initrd.img"));
            requireFile(kernel, "kernel");
            requireFile(initrd, "initrd");
            GuestImage image = GuestImage.of(name, kernel, initrd, json.path("acpi").asBoolean(true),
                    json.path("cmdlineExtra").asText(""));
            cache.put(name, new Loaded(image, seen.fileKey(), seen.lastModifiedTime()));
            return image;
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

    /**
     * The images directory named by {@code basalt.images} / {@code BASALT_IMAGES}, checked to hold a
     * built default image — what real-VM tests and tools need before they start anything.
     *
     * @throws IllegalStateException naming the fix (bin/test builds the images) if there is none
     */
    public static Path requireBuiltImages() {
        String configured = System.getProperty("basalt.images");
        if (configured == null || configured.isBlank() || configured.startsWith("${")) {
            configured = System.getenv("BASALT_IMAGES");
        }
        if (configured == null || configured.isBlank()) {
            throw new IllegalStateException("no guest image: run the tests with bin/test, which builds it and sets basalt.images");
        }
        Path dir = Path.of(configured);
        if (!Files.isRegularFile(dir.resolve("default/image.json"))) {
            throw new IllegalStateException("guest image missing in " + dir + ": run bin/test (or guest/image/build.sh)");
        }
        return dir;
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
