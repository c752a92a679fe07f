package dev.basalt.image;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ImageInfo;
import dev.basalt.api.Images;
import dev.basalt.api.PullRequest;
import dev.basalt.image.debian.DebianBuilder;
import dev.basalt.image.debian.DebianRecipe;
import dev.basalt.image.fs.Ext4Builder;
import dev.basalt.image.oci.ImageArchive;
import dev.basalt.image.oci.ResolvedImage;
import dev.basalt.image.registry.ImageReference;
import dev.basalt.image.registry.RegistryClient;
import dev.basalt.image.registry.RegistryOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * The operations of the {@link Images} port over a local {@link ImageStore} that need no sandbox:
 * listing, removal, registry pulls, archive imports, the shipped Debian image (basalt-core adds
 * Dockerfile builds, which run in sandboxes). Thread-safe.
 */
public final class ImageService {
    /** The name of the Debian image Basalt ships ({@link DebianRecipe#base()}). */
    public static final String BASE = "base";
    /** The largest image (its files) Basalt imports unless told otherwise. */
    public static final long DEFAULT_MAX_IMAGE_BYTES = 32L << 30;

    private final ImageStore store;
    private final ImageImporter importer;
    private final DebianBuilder debian;
    private final Duration connectTimeout;
    private final Duration idleTimeout;

    /**
     * @param maxImageBytes the most an image's files may take; a layer that goes past it is refused
     * @param idleTimeout   how long a registry may stay silent before a pull gives up
     */
    public ImageService(ImageStore store, long maxImageBytes, Duration connectTimeout, Duration idleTimeout) {
        this.store = store;
        Ext4Builder ext4 = new Ext4Builder();
        this.importer = new ImageImporter(store, ext4, maxImageBytes);
        this.debian = new DebianBuilder(store, ext4);
        this.connectTimeout = connectTimeout;
        this.idleTimeout = idleTimeout;
    }

    /** A service over the store in {@code root} with the default limits (32 GiB, 10 s to connect, 60 s of silence). */
    public static ImageService open(Path root) {
        return new ImageService(ImageStore.open(root), DEFAULT_MAX_IMAGE_BYTES, Duration.ofSeconds(10), Duration.ofSeconds(60));
    }

    public ImageStore store() {
        return store;
    }

    public List<ImageInfo> list() {
        return store.list();
    }

    public ImageInfo inspect(String name) {
        return store.inspect(name);
    }

    public void remove(String name) {
        store.remove(name);
    }

    /**
     * The shipped image {@value #BASE}, built with mmdebstrap on first use (a progress line, a minute
     * or two) and whenever its recipe changes; otherwise the stored one, at once.
     */
    public ImageInfo ensureBase(Consumer<String> progress) {
        return debian.ensure(DebianRecipe.base(), BASE, progress);
    }

    public ImageInfo pull(PullRequest request, Consumer<String> progress) {
        ImageReference ref = ImageReference.parse(request.reference());
        String name = request.name() != null ? request.name() : ImageInfo.requireValidName(ref.defaultName());
        RegistryOptions options = RegistryOptions.defaults().withTimeouts(connectTimeout, idleTimeout);
        if (request.username() != null) {
            options = options.withCredentials(request.username(), request.password());
        }
        if (request.caCertificates() != null) {
            options = options.withCaCertificates(request.caCertificates());
        }
        try (RegistryClient client = new RegistryClient(options)) {
            progress.accept("resolving " + ref + "...");
            ResolvedImage image = client.resolve(ref);
            String source = "registry " + ref.registry() + "/" + ref.repository()
                    + (ref.tag() != null ? ":" + ref.tag() : "") + "@" + image.manifestDigest();
            return importer.importImage(image, name, source, progress);
        }
    }

    public ImageInfo importArchive(Path archive, String tag, String name, Consumer<String> progress) {
        ImageInfo.requireValidName(name);
        try (ImageArchive a = ImageArchive.open(archive)) {
            ResolvedImage image = a.resolve(tag);
            return importer.importImage(image, name, "archive " + archive.toAbsolutePath()
                    + (tag == null ? "" : " (" + tag + ")"), progress);
        } catch (IOException e) {
            throw new BasaltException.InvalidArgument("cannot read image archive " + archive + ": " + e.getMessage(), e);
        }
    }
}
