package dev.basalt.image;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ImageInfo;
import dev.basalt.image.fs.Ext4Builder;
import dev.basalt.image.fs.LayerApplier;
import dev.basalt.image.oci.Digest;
import dev.basalt.image.oci.OciJson;
import dev.basalt.image.oci.ResolvedImage;
import dev.basalt.image.oci.VerifiedStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stores an OCI image (from an archive or a registry) as a Basalt image: its layers applied in
 * order into a root directory ({@link LayerApplier}), each layer's digest and uncompressed digest
 * checked as it streams by, the tree made an ext4 file system ({@link Ext4Builder}), the result
 * committed to the {@link ImageStore} under the name asked for. Content already in the store
 * (same config digest, so same layers) is only named again: nothing is downloaded.
 */
public final class ImageImporter {
    private static final Logger log = LoggerFactory.getLogger(ImageImporter.class);
    /** Bumped when the way an OCI image becomes a file system changes: old conversions are not reused. */
    static final String CONVERSION = "basalt-oci-1";
    private static final Set<String> LAYER_TYPES = Set.of(OciJson.OCI_LAYER, OciJson.OCI_LAYER_GZIP,
            OciJson.DOCKER_LAYER_GZIP, "application/vnd.docker.image.rootfs.diff.tar");

    private final ImageStore store;
    private final Ext4Builder ext4;
    private final long maxImageBytes;

    /**
     * @param maxImageBytes the most an image's files may take (a layer that goes past it is refused)
     */
    public ImageImporter(ImageStore store, Ext4Builder ext4, long maxImageBytes) {
        this.store = store;
        this.ext4 = ext4;
        this.maxImageBytes = maxImageBytes;
    }

    /** The store id of an OCI image's content: its config digest fixes its layers. */
    public static String contentId(Digest configDigest) {
        byte[] key = (CONVERSION + " " + configDigest).getBytes(StandardCharsets.UTF_8);
        return Digest.sha256(key).hex().substring(0, 32);
    }

    /**
     * Stores the image under {@code name}.
     *
     * @param source   where it came from, for {@link ImageInfo#source()}
     * @param progress receives one line per step that does work ("layer 2/5: 31.2 MiB")
     */
    public ImageInfo importImage(ResolvedImage image, String name, String source, Consumer<String> progress) {
        ImageInfo.requireValidName(name);
        String id = contentId(image.configDigest());
        if (store.hasContent(id)) {
            log.debug("{}: content {} is stored already", image.what(), id);
            return store.tag(id, name);
        }
        List<OciJson.Descriptor> layers = image.manifest().layers();
        List<String> diffIds = image.config().rootfs().diffIds();
        try (ImageStore.Staging staging = store.stage()) {
            var tree = staging.scratch("rootfs");
            LayerApplier applier = new LayerApplier(tree, maxImageBytes);
            for (int i = 0; i < layers.size(); i++) {
                OciJson.Descriptor layer = layers.get(i);
                String what = "layer " + (i + 1) + "/" + layers.size() + " of " + image.what() + " ("
                        + shortDigest(layer) + ")";
                checkLayerType(layer, what);
                progress.accept("applying " + what + ", " + mib(layer.size()) + "...");
                Digest digest = layer.parsedDigest();
                Digest diffId = Digest.parse(diffIds.get(i));
                try (InputStream blob = new VerifiedStream(image.blobs().open(layer), digest, layer.size(), what)) {
                    try {
                        InputStream tar = new VerifiedStream(LayerApplier.decompressed(blob, what), diffId, -1,
                                what + " uncompressed");
                        applier.apply(tar, what);
                    } catch (BasaltException.InvalidArgument e) {
                        throw digestMismatchOr(blob, e);
                    }
                    blob.transferTo(OutputStream.nullOutputStream());
                }
            }
            applier.finish();
            progress.accept("making the file system of " + image.what() + " (" + mib(applier.bytes()) + ")...");
            long fsBytes = ext4.build(tree, staging.rootfs());
            return staging.commit(name, id, source, image.execDefaults(), fsBytes);
        } catch (IOException e) {
            throw new BasaltException.Unavailable("cannot import " + image.what() + ": " + e, e);
        }
    }

    /**
     * A layer that cannot be applied is often one whose bytes were damaged on the way: read the
     * rest of it, and if it does not match its digest, say so instead of what the damage broke.
     */
    private static BasaltException digestMismatchOr(InputStream blob, BasaltException.InvalidArgument e) {
        try {
            blob.transferTo(OutputStream.nullOutputStream());
        } catch (BasaltException.InvalidArgument digest) {
            return digest;
        } catch (IOException | RuntimeException ignored) {
            // the first error stands
        }
        return e;
    }

    private static void checkLayerType(OciJson.Descriptor layer, String what) {
        String type = layer.mediaType() == null ? OciJson.OCI_LAYER : layer.mediaType();
        if (layer.urls() != null && !layer.urls().isEmpty() || type.contains("foreign") || type.contains("nondistributable")) {
            throw new BasaltException.InvalidArgument(what + " is a foreign layer (" + type + "), which Basalt does not"
                    + " fetch");
        }
        if (type.endsWith("+zstd") || type.endsWith(".zstd")) {
            throw new BasaltException.InvalidArgument(what + " is zstd-compressed (" + type + "), which Basalt does not"
                    + " read yet; use a gzip or uncompressed image");
        }
        if (!LAYER_TYPES.contains(type)) {
            throw new BasaltException.InvalidArgument(what + " has media type " + type + ", which is not an image layer"
                    + " Basalt reads (tar or tar+gzip)");
        }
    }

    private static String shortDigest(OciJson.Descriptor d) {
        return d.digest() == null || d.digest().length() < 19 ? String.valueOf(d.digest()) : d.digest().substring(0, 19);
    }

    static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / 1048576.0);
    }
}
