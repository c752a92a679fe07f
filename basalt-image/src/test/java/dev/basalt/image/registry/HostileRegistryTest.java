package dev.basalt.image.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.basalt.api.BasaltException;
import dev.basalt.api.PullRequest;
import dev.basalt.image.ImageService;
import dev.basalt.image.ImageStore;
import dev.basalt.image.TestImages;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Registries that misbehave: a server speaking the distribution API over a real socket that
 * fails, stalls or serves bytes that do not match their digests (the well-behaved side is
 * {@link RegistryPullTest}, against a real registry). Each pull fails with an error naming what
 * was wrong and leaves nothing in the store.
 */
class HostileRegistryTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path work;
    @TempDir
    Path tmp;
    static Path layout;
    static byte[] manifest;
    static String manifestDigest;
    private HttpServer server;
    private final CountDownLatch release = new CountDownLatch(1);

    @BeforeAll
    static void image() throws IOException {
        layout = TestImages.ociLayout(work.resolve("layout"), "v1", "made by the test");
        JsonNode index = JSON.readTree(layout.resolve("index.json").toFile());
        manifestDigest = index.path("manifests").get(0).path("digest").asText();
        manifest = blob(manifestDigest);
    }

    private static byte[] blob(String digest) throws IOException {
        return Files.readAllBytes(layout.resolve("blobs/sha256").resolve(digest.substring(7)));
    }

    interface Behaviour {
        void handle(HttpExchange x, String path) throws Exception;
    }

    private String serve(Behaviour b) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.createContext("/", x -> {
            try (x) {
                String path = x.getRequestURI().getPath();
                if (path.equals("/v2/")) {
                    x.sendResponseHeaders(200, -1);
                    return;
                }
                b.handle(x, path);
            } catch (Exception e) {
                // the client went away
            }
        });
        server.start();
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        release.countDown();
        if (server != null) {
            server.stop(0);
        }
    }

    private static void send(HttpExchange x, int status, String type, byte[] body) throws IOException {
        if (type != null) {
            x.getResponseHeaders().add("Content-Type", type);
        }
        x.sendResponseHeaders(status, body.length);
        x.getResponseBody().write(body);
    }

    /** Serves the layout's image, with blobs passed through {@code blobs}. */
    private Behaviour image(Behaviour blobs) {
        return (x, path) -> {
            if (path.contains("/manifests/")) {
                send(x, 200, "application/vnd.oci.image.manifest.v1+json", manifest);
            } else if (path.contains("/blobs/")) {
                blobs.handle(x, path);
            } else {
                send(x, 404, null, new byte[0]);
            }
        };
    }

    private ImageService service() {
        return new ImageService(ImageStore.open(tmp.resolve("store")), 1L << 30, Duration.ofSeconds(2), Duration.ofSeconds(1));
    }

    private void assertNothingLeft(ImageService service) throws IOException {
        assertThat(service.list()).isEmpty();
        for (String dir : new String[] {"staging", "images", "names"}) {
            try (Stream<Path> s = Files.list(tmp.resolve("store").resolve(dir))) {
                assertThat(s).as(dir).isEmpty();
            }
        }
    }

    @Test
    void serverErrorsAreUnavailable() throws IOException {
        String host = serve((x, path) -> send(x, 500, "application/json",
                "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"disk on fire\"}]}".getBytes(StandardCharsets.UTF_8)));
        ImageService service = service();
        assertThatThrownBy(() -> service.pull(PullRequest.of(host + "/app:v1"), l -> { }))
                .isInstanceOf(BasaltException.Unavailable.class).hasMessageContaining("(500)")
                .hasMessageContaining("disk on fire");
        assertNothingLeft(service);
    }

    @Test
    void aSilentRegistryTimesOut() throws IOException {
        String host = serve((x, path) -> release.await(30, TimeUnit.SECONDS));
        ImageService service = service();
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> service.pull(PullRequest.of(host + "/app:v1"), l -> { }))
                .isInstanceOf(BasaltException.TimedOut.class).hasMessageContaining("did not answer within 1 s");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
        assertNothingLeft(service);
    }

    @Test
    void aBlobThatStallsHalfwayTimesOut() throws IOException {
        String host = serve(image((x, path) -> {
            byte[] b = blob(path.substring(path.lastIndexOf('/') + 1));
            x.sendResponseHeaders(200, b.length);
            OutputStream out = x.getResponseBody();
            out.write(b, 0, b.length / 2);
            out.flush();
            release.await(30, TimeUnit.SECONDS);
        }));
        ImageService service = service();
        assertThatThrownBy(() -> service.pull(PullRequest.of(host + "/app:v1"), l -> { }))
                .isInstanceOf(BasaltException.TimedOut.class).hasMessageContaining("no data for 1 s");
        assertNothingLeft(service);
    }

    @Test
    void aLayerThatDoesNotMatchItsDigestIsRefused() throws IOException {
        String host = serve(image((x, path) -> {
            byte[] b = blob(path.substring(path.lastIndexOf('/') + 1)).clone();
            if (b.length > 100_000) {   // the busybox layer: one byte changed in its gzip stream's tail
                b[b.length - 20] ^= 1;
            }
            send(x, 200, null, b);
        }));
        ImageService service = service();
        assertThatThrownBy(() -> service.pull(PullRequest.of(host + "/app:v1"), l -> { }))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("layer 1/2")
                .hasMessageContaining("does not match its digest");
        assertNothingLeft(service);
    }

    @Test
    void aManifestThatIsNotWhatItsDigestSaysIsRefused() throws IOException {
        String host = serve((x, path) -> {
            x.getResponseHeaders().add("Docker-Content-Digest", "sha256:" + "0".repeat(64));
            send(x, 200, "application/vnd.oci.image.manifest.v1+json", manifest);
        });
        ImageService service = service();
        assertThatThrownBy(() -> service.pull(PullRequest.of(host + "/app:v1"), l -> { }))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("the registry says its digest is");
        // asked by digest, other bytes than the digest's
        String other = "sha256:" + "1".repeat(64);
        assertThatThrownBy(() -> service.pull(PullRequest.of(host + "/app@" + other).withName("x"), l -> { }))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("does not match its digest");
        assertNothingLeft(service);
    }

    @Test
    void aLayerBiggerThanTheLimitIsRefused() throws IOException {
        String host = serve(image((x, path) -> send(x, 200, null, blob(path.substring(path.lastIndexOf('/') + 1)))));
        ImageService service = new ImageService(ImageStore.open(tmp.resolve("store")), 1 << 20, Duration.ofSeconds(2),
                Duration.ofSeconds(5));
        assertThatThrownBy(() -> service.pull(PullRequest.of(host + "/app:v1"), l -> { }))
                .isInstanceOf(BasaltException.ResourceExhausted.class).hasMessageContaining("larger than its limit of 1 MiB");
        assertNothingLeft(service);
    }

    @Test
    void redirectsToPlainHttpElsewhereAreRefused() throws IOException {
        String host = serve(image((x, path) -> {
            x.getResponseHeaders().add("Location", "http://203.0.113.7/blob");
            x.sendResponseHeaders(307, -1);
        }));
        ImageService service = service();
        assertThatThrownBy(() -> service.pull(PullRequest.of(host + "/app:v1"), l -> { }))
                .isInstanceOf(BasaltException.PermissionDenied.class).hasMessageContaining("not HTTPS");
        assertNothingLeft(service);
    }
}
