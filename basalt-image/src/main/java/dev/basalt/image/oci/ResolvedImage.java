package dev.basalt.image.oci;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ImageConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One image, found: the manifest for linux/amd64, its config, and where its blobs are.
 *
 * @param what           names the image in messages ("127.0.0.1:5000/app:v1")
 * @param manifestDigest digest of the manifest (null for a docker-save archive, which has none)
 * @param manifest       its layers (a docker-save archive's are described from its manifest.json)
 * @param configDigest   digest of the config: with the layers it determines the image's content
 * @param config         the parsed config
 * @param blobs          where the layers are read from
 */
public record ResolvedImage(String what, Digest manifestDigest, OciJson.Manifest manifest, Digest configDigest,
                            OciJson.ConfigFile config, BlobSource blobs) {
    private static final Logger log = LoggerFactory.getLogger(ResolvedImage.class);

    public ResolvedImage {
        Objects.requireNonNull(what, "what");
        Objects.requireNonNull(manifest, "manifest");
        Objects.requireNonNull(configDigest, "configDigest");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(blobs, "blobs");
        if (manifest.layers() == null) {
            throw new BasaltException.InvalidArgument("the manifest of " + what + " lists no layers");
        }
        if (config.os() != null && !config.os().equals("linux")
                || config.architecture() != null && !config.architecture().equals("amd64")) {
            throw new BasaltException.InvalidArgument(what + " is an image for " + config.os() + "/"
                    + config.architecture() + "; Basalt runs linux/amd64 guests");
        }
        List<String> diffIds = config.rootfs() == null ? null : config.rootfs().diffIds();
        if (diffIds == null || diffIds.size() != manifest.layers().size()) {
            throw new BasaltException.InvalidArgument("the config of " + what + " lists "
                    + (diffIds == null ? "no" : diffIds.size()) + " layer digests (rootfs.diff_ids) for "
                    + manifest.layers().size() + " layers");
        }
    }

    /** The exec defaults the config gives (Env, WorkingDir, User; Entrypoint and Cmd for the record). */
    public ImageConfig execDefaults() {
        OciJson.RunConfig run = config.config();
        if (run == null) {
            return ImageConfig.empty();
        }
        Map<String, String> env = new LinkedHashMap<>();
        if (run.env() != null) {
            for (String kv : run.env()) {
                int eq = kv.indexOf('=');
                String name = eq < 0 ? kv : kv.substring(0, eq);
                if (!name.matches("[A-Za-z_][A-Za-z0-9_]*") || kv.indexOf('\0') >= 0) {
                    log.warn("{}: ignoring environment entry '{}' of its config", what, kv);
                    continue;
                }
                env.put(name, eq < 0 ? "" : kv.substring(eq + 1));
            }
        }
        String user = run.user() == null ? "" : run.user();
        return new ImageConfig(env, run.workingDir(), user,
                run.entrypoint() == null ? List.of() : run.entrypoint(), run.cmd() == null ? List.of() : run.cmd());
    }

    /** The manifest of linux/amd64 in an index. */
    public static OciJson.Descriptor pickPlatform(OciJson.Index index, String what) {
        if (index.manifests() == null || index.manifests().isEmpty()) {
            throw new BasaltException.InvalidArgument("the manifest list of " + what + " is empty");
        }
        for (OciJson.Descriptor d : index.manifests()) {
            OciJson.Platform p = d.platform();
            if (p != null && "linux".equals(p.os()) && "amd64".equals(p.architecture())) {
                return d;
            }
        }
        List<String> have = index.manifests().stream()
                .map(d -> d.platform() == null ? "unknown platform" : d.platform().toString()).distinct().toList();
        throw new BasaltException.InvalidArgument(what + " has no image for linux/amd64 (it has: "
                + String.join(", ", have) + "); Basalt runs linux/amd64 guests");
    }
}
