package dev.basalt.image.oci;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.basalt.api.BasaltException;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * The OCI image documents Basalt reads (image-spec v1: index, manifest, config; and their Docker
 * v2 schema 2 twins, which have the same shape). Unknown fields are ignored.
 */
public final class OciJson {
    /** Media types, OCI and Docker. */
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    public static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
    public static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";
    public static final String OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
    public static final String DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    /** The manifest types a registry is asked for, in order of preference. */
    public static final String ACCEPT = String.join(", ", OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST);
    /** Largest manifest, index or config read (they are held in memory). */
    public static final int MAX_DOCUMENT = 4 << 20;

    static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private OciJson() {
    }

    /** A reference to a blob. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Descriptor(String mediaType, String digest, long size, Platform platform,
                             Map<String, String> annotations, List<String> urls) {
        public Digest parsedDigest() {
            return Digest.parse(digest);
        }

        /** The annotation {@code org.opencontainers.image.ref.name}, or null. */
        public String refName() {
            return annotations == null ? null : annotations.get("org.opencontainers.image.ref.name");
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Platform(String architecture, String os, String variant) {
        @Override
        public String toString() {
            return os + "/" + architecture + (variant == null || variant.isEmpty() ? "" : "/" + variant);
        }
    }

    /** An index (manifest list). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Index(int schemaVersion, String mediaType, List<Descriptor> manifests) {
    }

    /** An image manifest. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Manifest(int schemaVersion, String mediaType, Descriptor config, List<Descriptor> layers) {
    }

    /** The image configuration: what it runs as, and the digests of its uncompressed layers. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ConfigFile(String architecture, String os, RunConfig config, RootFs rootfs) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RunConfig(@JsonProperty("Env") List<String> env, @JsonProperty("WorkingDir") String workingDir,
                            @JsonProperty("User") String user, @JsonProperty("Entrypoint") List<String> entrypoint,
                            @JsonProperty("Cmd") List<String> cmd) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RootFs(String type, @JsonProperty("diff_ids") List<String> diffIds) {
    }

    /** Whether a manifest document (by media type, or by shape when it has none) is an index. */
    public static boolean isIndex(String mediaType, byte[] document) {
        if (mediaType != null && !mediaType.isBlank()) {
            String type = mediaType.split(";")[0].strip();
            if (type.equals(OCI_INDEX) || type.equals(DOCKER_LIST)) {
                return true;
            }
            if (type.equals(OCI_MANIFEST) || type.equals(DOCKER_MANIFEST)) {
                return false;
            }
        }
        JsonNode tree = tree(document, "manifest");
        String declared = tree.path("mediaType").asText("");
        if (declared.equals(OCI_INDEX) || declared.equals(DOCKER_LIST)) {
            return true;
        }
        if (tree.path("schemaVersion").asInt() == 1) {
            throw new BasaltException.InvalidArgument("the image has a Docker schema 1 manifest, which Basalt does not"
                    + " read; push it again with a current docker or skopeo");
        }
        return tree.has("manifests") && !tree.has("layers");
    }

    public static <T> T parse(byte[] document, Class<T> type, String what) {
        try {
            return JSON.readValue(document, type);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new BasaltException.InvalidArgument(what + " is not valid JSON of its kind: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new BasaltException.InvalidArgument(what + " cannot be read: " + e.getMessage(), e);
        }
    }

    private static JsonNode tree(byte[] document, String what) {
        try {
            return JSON.readTree(document);
        } catch (IOException e) {
            throw new BasaltException.InvalidArgument(what + " is not valid JSON: " + e.getMessage(), e);
        }
    }
}
