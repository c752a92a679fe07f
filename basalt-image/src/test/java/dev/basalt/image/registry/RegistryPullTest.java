package dev.basalt.image.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.basalt.api.BasaltException;
import dev.basalt.api.ImageInfo;
import dev.basalt.api.PullRequest;
import dev.basalt.image.ImageService;
import dev.basalt.image.ImageStore;
import dev.basalt.image.TestImages;
import dev.basalt.image.oci.Digest;
import dev.basalt.image.oci.OciJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pulls from a real registry (Debian's docker-registry on loopback) filled with skopeo from images
 * the test builds with umoci: plain HTTP and HTTPS, anonymous, basic and bearer-token auth,
 * manifest lists, and the registry's refusals.
 */
class RegistryPullTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path work;
    @TempDir
    Path tmp;
    static Path storage;
    static Path layout;

    @BeforeAll
    static void fill() throws IOException {
        layout = TestImages.ociLayout(work.resolve("layout"), "v1", "made by the test");
        addIndex(layout, "multi", "arm64", "amd64");
        addIndex(layout, "armonly", "arm64");
        storage = work.resolve("storage");
        try (RegistryFixture r = RegistryFixture.start(work.resolve("fill"), storage, new RegistryFixture.Anonymous(), null)) {
            r.push("oci:" + layout + ":v1", "team/app:v1", false);
            r.push("oci:" + layout + ":multi", "team/multi:v1", true);
            r.push("oci:" + layout + ":armonly", "team/armonly:v1", true);
        }
    }

    @AfterAll
    static void noRegistryLeft() throws IOException {
        String ps = TestImages.run("ps", "-eo", "args");
        assertThat(ps).doesNotContain(work.toString());
    }

    private ImageService service(Duration idle) {
        return new ImageService(ImageStore.open(tmp.resolve("store")), 1L << 30, Duration.ofSeconds(5), idle);
    }

    private ImageService service() {
        return service(Duration.ofSeconds(30));
    }

    @Test
    void anonymousOverPlainHttpWithManifestLists() throws IOException {
        try (RegistryFixture r = RegistryFixture.start(tmp.resolve("r"), storage, new RegistryFixture.Anonymous(), null)) {
            ImageService service = service();
            List<String> progress = new ArrayList<>();
            ImageInfo app = service.pull(PullRequest.of(r.host + "/team/app:v1"), progress::add);
            assertThat(app.name()).isEqualTo(r.host + "/team/app:v1");
            assertThat(app.source()).startsWith("registry " + r.host + "/team/app:v1@sha256:");
            TestImages.assertImported(service, app);
            assertThat(progress).anyMatch(l -> l.startsWith("applying layer 2/2"));

            // a list (arm64 first): its linux/amd64 entry (an arm64 config would be refused)
            ImageInfo multi = service.pull(PullRequest.of(r.host + "/team/multi:v1").withName("multi"), l -> { });
            TestImages.assertImported(service, multi);
            // by digest: the same content as app, so nothing is downloaded
            progress.clear();
            String digest = app.source().substring(app.source().indexOf("@") + 1);
            assertThat(service.pull(PullRequest.of(r.host + "/team/app@" + digest).withName("by-digest"), progress::add)
                    .id()).isEqualTo(app.id());
            assertThat(progress).noneMatch(l -> l.startsWith("applying"));

            assertThatThrownBy(() -> service.pull(PullRequest.of(r.host + "/team/armonly:v1"), l -> { }))
                    .isInstanceOf(BasaltException.InvalidArgument.class)
                    .hasMessageContaining("no image for linux/amd64 (it has: linux/arm64)");
            assertThatThrownBy(() -> service.pull(PullRequest.of(r.host + "/team/app:nope"), l -> { }))
                    .isInstanceOf(BasaltException.NotFound.class).hasMessageContaining("manifest nope")
                    .hasMessageContaining("404");
            assertThatThrownBy(() -> service.pull(PullRequest.of(r.host + "/no/such/repo:v1"), l -> { }))
                    .isInstanceOf(BasaltException.NotFound.class);
            assertThatThrownBy(() -> service.pull(PullRequest.of(r.host + "/team/app:v1").withName("x/../y"), l -> { }))
                    .isInstanceOf(BasaltException.InvalidArgument.class);
            assertThat(service.list()).extracting(ImageInfo::name)
                    .containsExactly(r.host + "/team/app:v1", "by-digest", "multi");
        }
    }

    @Test
    void basicAuthentication() throws IOException {
        try (RegistryFixture r = RegistryFixture.start(tmp.resolve("r"), storage, new RegistryFixture.Basic(), null)) {
            ImageService service = service();
            PullRequest req = PullRequest.of(r.host + "/team/app:v1");
            assertThatThrownBy(() -> service.pull(req, l -> { }))
                    .isInstanceOf(BasaltException.PermissionDenied.class).hasMessageContaining("needs a user name and password");
            assertThatThrownBy(() -> service.pull(req.withCredentials(RegistryFixture.USER, "wrong"), l -> { }))
                    .isInstanceOf(BasaltException.PermissionDenied.class).hasMessageContaining("401")
                    .hasMessageContaining("with the credentials given");
            ImageInfo info = service.pull(req.withCredentials(RegistryFixture.USER, RegistryFixture.PASSWORD), l -> { });
            TestImages.assertImported(service, info);
        }
    }

    @Test
    void bearerTokens() throws Exception {
        try (TokenServer tokens = TokenServer.start(tmp.resolve("token"));
             RegistryFixture r = RegistryFixture.start(tmp.resolve("r"), storage,
                     new RegistryFixture.Token(tokens.realm(), tokens.certificateFile), null)) {
            ImageService service = service();
            PullRequest req = PullRequest.of(r.host + "/team/app:v1");
            assertThatThrownBy(() -> service.pull(req, l -> { }))
                    .isInstanceOf(BasaltException.PermissionDenied.class).hasMessageContaining("token service")
                    .hasMessageContaining("anonymous access");
            ImageInfo info = service.pull(req.withCredentials(RegistryFixture.USER, RegistryFixture.PASSWORD), l -> { });
            TestImages.assertImported(service, info);
            assertThat(tokens.refused.get()).isEqualTo(1);
        }
    }

    @Test
    void httpsWithThePrivateCaOnly() throws IOException {
        Path key = tmp.resolve("tls.key");
        Path cert = tmp.resolve("tls.crt");
        TestImages.run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(), "-out",
                cert.toString(), "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1");
        try (RegistryFixture r = RegistryFixture.start(tmp.resolve("r"), storage, new RegistryFixture.Anonymous(),
                new Path[] {cert, key})) {
            ImageService service = service();
            PullRequest req = PullRequest.of(r.host + "/team/app:v1");
            assertThatThrownBy(() -> service.pull(req, l -> { }))
                    .isInstanceOf(BasaltException.Unavailable.class).hasMessageContaining("TLS with registry")
                    .hasMessageContaining("give its certificate");
            TestImages.assertImported(service, service.pull(req.withCaCertificates(cert), l -> { }));
        }
    }

    @Test
    void aRegistryThatIsNotThereIsNamed() throws IOException {
        int port = RegistryFixture.freePort();
        assertThatThrownBy(() -> service().pull(PullRequest.of("127.0.0.1:" + port + "/team/app:v1"), l -> { }))
                .isInstanceOf(BasaltException.Unavailable.class).hasMessageContaining("cannot connect to registry 127.0.0.1:" + port);
        try (Stream<Path> s = Files.list(tmp.resolve("store/staging"))) {
            assertThat(s).isEmpty();
        }
    }

    /** Adds to the layout an index (manifest list) tagged {@code tag} with one entry per architecture. */
    static void addIndex(Path layout, String tag, String... architectures) throws IOException {
        ObjectNode index = (ObjectNode) JSON.readTree(layout.resolve("index.json").toFile());
        ObjectNode v1 = null;
        for (var m : index.withArray("manifests")) {
            if ("v1".equals(m.path("annotations").path("org.opencontainers.image.ref.name").asText())) {
                v1 = (ObjectNode) m;
            }
        }
        ObjectNode manifest = (ObjectNode) JSON.readTree(blob(layout, v1.path("digest").asText()));
        ObjectNode config = (ObjectNode) JSON.readTree(blob(layout, manifest.path("config").path("digest").asText()));
        ArrayNode entries = JSON.createArrayNode();
        for (String arch : architectures) {
            ObjectNode c = config.deepCopy().put("architecture", arch);
            byte[] cBytes = JSON.writeValueAsBytes(c);
            ObjectNode m = manifest.deepCopy();
            ((ObjectNode) m.path("config")).put("digest", write(layout, cBytes)).put("size", cBytes.length);
            byte[] mBytes = JSON.writeValueAsBytes(m);
            ObjectNode e = entries.addObject().put("mediaType", OciJson.OCI_MANIFEST).put("digest", write(layout, mBytes))
                    .put("size", mBytes.length);
            e.putObject("platform").put("architecture", arch).put("os", "linux");
        }
        ObjectNode list = JSON.createObjectNode().put("schemaVersion", 2).put("mediaType", OciJson.OCI_INDEX);
        list.set("manifests", entries);
        byte[] lBytes = JSON.writeValueAsBytes(list);
        ObjectNode ref = index.withArray("manifests").addObject().put("mediaType", OciJson.OCI_INDEX)
                .put("digest", write(layout, lBytes)).put("size", lBytes.length);
        ref.putObject("annotations").put("org.opencontainers.image.ref.name", tag);
        JSON.writeValue(layout.resolve("index.json").toFile(), index);
    }

    private static byte[] blob(Path layout, String digest) throws IOException {
        return Files.readAllBytes(layout.resolve("blobs/sha256").resolve(digest.substring(7)));
    }

    private static String write(Path layout, byte[] bytes) throws IOException {
        Digest d = Digest.sha256(bytes);
        Files.write(layout.resolve("blobs/sha256").resolve(d.hex()), bytes);
        return d.toString();
    }
}
