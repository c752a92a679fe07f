package dev.basalt.image.oci;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.basalt.api.BasaltException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarFile;

/**
 * An image on disk: an OCI image layout (a directory, or a tar of one, as {@code skopeo copy
 * oci-archive:} or a current {@code docker save} writes), or a classic {@code docker save}
 * archive ({@code manifest.json} + config + layer tars). Blobs are read in place: a tar is read
 * with random access, nothing is unpacked first.
 */
public final class ImageArchive implements BlobSource, Closeable {
    private final Path path;
    private final TarFile tar;                        // null for a directory
    private final Map<String, TarArchiveEntry> entries;

    private ImageArchive(Path path, TarFile tar, Map<String, TarArchiveEntry> entries) {
        this.path = path;
        this.tar = tar;
        this.entries = entries;
    }

    /**
     * Opens a directory or tar file.
     *
     * @throws BasaltException.NotFound if it does not exist
     * @throws BasaltException.InvalidArgument if it is neither an OCI layout nor a docker-save archive
     */
    public static ImageArchive open(Path path) {
        if (!Files.exists(path)) {
            throw new BasaltException.NotFound("no image archive " + path);
        }
        if (Files.isDirectory(path)) {
            return new ImageArchive(path, null, Map.of());
        }
        try {
            TarFile tar = new TarFile(path);
            Map<String, TarArchiveEntry> entries = new HashMap<>();
            for (TarArchiveEntry e : tar.getEntries()) {
                if (e.isFile()) {
                    entries.put(normalize(e.getName()), e);
                }
            }
            return new ImageArchive(path, tar, entries);
        } catch (IOException | RuntimeException e) {
            throw new BasaltException.InvalidArgument(path + " is neither a directory nor a readable tar archive: "
                    + e.getMessage(), e);
        }
    }

    /**
     * The image in the archive: the one named {@code tag} (an OCI layout's
     * {@code org.opencontainers.image.ref.name}, or a docker-save RepoTag), or the only one.
     */
    public ResolvedImage resolve(String tag) throws IOException {
        if (has("oci-layout") && has("index.json")) {
            return resolveOci(tag);
        }
        if (has("manifest.json")) {
            return resolveDocker(tag);
        }
        throw new BasaltException.InvalidArgument(path + " is not an image archive: it has neither an OCI layout"
                + " (oci-layout, index.json) nor a docker-save manifest.json");
    }

    private ResolvedImage resolveOci(String tag) throws IOException {
        String what = "OCI layout " + path;
        OciJson.Index index = OciJson.parse(readFile("index.json"), OciJson.Index.class, what + ": index.json");
        if (index.manifests() == null || index.manifests().isEmpty()) {
            throw new BasaltException.InvalidArgument(what + " has no images (index.json lists none)");
        }
        OciJson.Descriptor chosen;
        if (tag != null) {
            chosen = index.manifests().stream().filter(d -> tag.equals(d.refName())).findFirst()
                    .orElseThrow(() -> new BasaltException.NotFound(what + " has no image tagged '" + tag + "' (it has: "
                            + String.join(", ", index.manifests().stream().map(d -> String.valueOf(d.refName())).toList())
                            + ")"));
        } else if (index.manifests().size() == 1) {
            chosen = index.manifests().getFirst();
        } else {
            throw new BasaltException.InvalidArgument(what + " has " + index.manifests().size() + " images: say which"
                    + " (by its org.opencontainers.image.ref.name)");
        }
        // an index may point at a nested index (a multi-platform image)
        for (int depth = 0; ; depth++) {
            byte[] doc = read(chosen, what + ": manifest " + chosen.digest());
            if (!OciJson.isIndex(chosen.mediaType(), doc)) {
                return fromManifest(what + (tag == null ? "" : ":" + tag), chosen.parsedDigest(), doc);
            }
            if (depth == 4) {
                throw new BasaltException.InvalidArgument(what + ": indexes nest too deep");
            }
            chosen = ResolvedImage.pickPlatform(OciJson.parse(doc, OciJson.Index.class, what + ": index"), what);
        }
    }

    private ResolvedImage fromManifest(String what, Digest manifestDigest, byte[] doc) throws IOException {
        OciJson.Manifest manifest = OciJson.parse(doc, OciJson.Manifest.class, what + ": manifest");
        if (manifest.config() == null) {
            throw new BasaltException.InvalidArgument(what + ": the manifest has no config");
        }
        byte[] configBytes = read(manifest.config(), what + ": config");
        OciJson.ConfigFile config = OciJson.parse(configBytes, OciJson.ConfigFile.class, what + ": config");
        return new ResolvedImage(what, manifestDigest, manifest, manifest.config().parsedDigest(), config, this);
    }

    /** One image of a docker-save manifest.json. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record DockerEntry(@JsonProperty("Config") String config, @JsonProperty("RepoTags") List<String> repoTags,
                       @JsonProperty("Layers") List<String> layers) {
    }

    private ResolvedImage resolveDocker(String tag) throws IOException {
        String what = "docker archive " + path;
        DockerEntry[] images = OciJson.parse(readFile("manifest.json"), DockerEntry[].class, what + ": manifest.json");
        DockerEntry chosen;
        if (tag != null) {
            chosen = List.of(images).stream().filter(e -> e.repoTags() != null && e.repoTags().contains(tag)).findFirst()
                    .orElseThrow(() -> new BasaltException.NotFound(what + " has no image tagged '" + tag + "'"));
        } else if (images.length == 1) {
            chosen = images[0];
        } else {
            throw new BasaltException.InvalidArgument(what + " has " + images.length + " images: say which by one of"
                    + " its tags");
        }
        if (chosen.config() == null || chosen.layers() == null) {
            throw new BasaltException.InvalidArgument(what + ": manifest.json names no config or no layers");
        }
        byte[] configBytes = readFile(chosen.config());
        if (configBytes.length > OciJson.MAX_DOCUMENT) {
            throw new BasaltException.InvalidArgument(what + ": the config is larger than " + OciJson.MAX_DOCUMENT + " bytes");
        }
        Digest configDigest = Digest.sha256(configBytes);
        String named = normalize(chosen.config()).replaceFirst("^blobs/sha256/", "").replaceFirst("\\.json$", "");
        if (named.matches("[a-f0-9]{64}") && !named.equals(configDigest.hex())) {
            throw new BasaltException.InvalidArgument(what + ": config " + chosen.config() + " does not match its digest");
        }
        OciJson.ConfigFile config = OciJson.parse(configBytes, OciJson.ConfigFile.class, what + ": config");
        List<String> diffIds = config.rootfs() == null || config.rootfs().diffIds() == null ? List.of() : config.rootfs().diffIds();
        if (diffIds.size() != chosen.layers().size()) {
            throw new BasaltException.InvalidArgument(what + ": the config lists " + diffIds.size() + " layer digests for "
                    + chosen.layers().size() + " layers");
        }
        // a docker-save layer is its uncompressed tar, so its digest is its diff_id
        List<OciJson.Descriptor> layers = new java.util.ArrayList<>();
        for (int i = 0; i < chosen.layers().size(); i++) {
            String file = chosen.layers().get(i);
            layers.add(new OciJson.Descriptor(OciJson.OCI_LAYER, diffIds.get(i), size(file), null,
                    Map.of("basalt.file", file), null));
        }
        OciJson.Manifest manifest = new OciJson.Manifest(2, OciJson.DOCKER_MANIFEST,
                new OciJson.Descriptor(OciJson.DOCKER_CONFIG, configDigest.toString(), configBytes.length, null, null, null),
                layers);
        String name = tag != null ? tag : chosen.repoTags() != null && !chosen.repoTags().isEmpty()
                ? chosen.repoTags().getFirst() : path.getFileName().toString();
        return new ResolvedImage(what + " (" + name + ")", null, manifest, configDigest, config, this);
    }

    @Override
    public InputStream open(OciJson.Descriptor d) throws IOException {
        String file = d.annotations() != null && d.annotations().containsKey("basalt.file")
                ? d.annotations().get("basalt.file")
                : "blobs/" + d.parsedDigest().algorithm() + "/" + d.parsedDigest().hex();
        return openFile(file);
    }

    private boolean has(String name) {
        return tar != null ? entries.containsKey(name) : Files.isRegularFile(path.resolve(name));
    }

    private long size(String name) {
        TarArchiveEntry e = tar != null ? entries.get(normalize(name)) : null;
        if (tar != null) {
            if (e == null) {
                throw new BasaltException.InvalidArgument(path + " has no file " + name);
            }
            return e.getSize();
        }
        try {
            return Files.size(fileInDir(name));
        } catch (IOException ex) {
            throw new BasaltException.InvalidArgument(path + " has no file " + name);
        }
    }

    private byte[] readFile(String name) throws IOException {
        try (InputStream in = openFile(name)) {
            byte[] bytes = in.readNBytes(OciJson.MAX_DOCUMENT + 1);
            if (bytes.length > OciJson.MAX_DOCUMENT) {
                throw new BasaltException.InvalidArgument(path + ": " + name + " is larger than " + OciJson.MAX_DOCUMENT + " bytes");
            }
            return bytes;
        }
    }

    private InputStream openFile(String name) throws IOException {
        if (tar != null) {
            TarArchiveEntry e = entries.get(normalize(name));
            if (e == null) {
                throw new BasaltException.NotFound(path + " has no file " + name + " (the archive is incomplete)");
            }
            return tar.getInputStream(e);
        }
        try {
            return Files.newInputStream(fileInDir(name));
        } catch (NoSuchFileException e) {
            throw new BasaltException.NotFound(path + " has no file " + name + " (the layout is incomplete)");
        }
    }

    /** A file of a layout directory, by a name that may not leave it. */
    private Path fileInDir(String name) {
        String n = normalize(name);
        if (n.isEmpty() || List.of(n.split("/")).contains("..")) {
            throw new BasaltException.InvalidArgument(path + ": file name '" + name + "' leaves the archive");
        }
        return path.resolve(n);
    }

    private static String normalize(String name) {
        String n = name;
        while (n.startsWith("./") || n.startsWith("/")) {
            n = n.substring(n.startsWith("./") ? 2 : 1);
        }
        return n;
    }

    @Override
    public void close() throws IOException {
        if (tar != null) {
            tar.close();
        }
    }
}
