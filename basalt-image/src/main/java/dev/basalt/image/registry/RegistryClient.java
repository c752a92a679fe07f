package dev.basalt.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.basalt.api.BasaltException;
import dev.basalt.image.oci.BlobSource;
import dev.basalt.image.oci.Digest;
import dev.basalt.image.oci.OciJson;
import dev.basalt.image.oci.ResolvedImage;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of the OCI distribution API (what Docker Hub, GHCR, Harbor and {@code docker-registry}
 * serve), for pulling: manifests by tag or digest (manifest lists resolved to linux/amd64), then
 * blobs, every document checked against its digest. HTTPS, or plain HTTP for a registry on a
 * loopback address (tried when it does not speak TLS, as docker does). Authentication as the
 * registry asks in its {@code WWW-Authenticate} challenge: basic, or a bearer token from its token
 * service (anonymous, or with the credentials). Credentials never travel in clear text except
 * to loopback, and never follow a redirect to another host. Thread-safe.
 */
public final class RegistryClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RegistryClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_REDIRECTS = 5;
    private static final int ERROR_BODY = 2048;
    private static final java.time.Duration PROBE_TIMEOUT = java.time.Duration.ofSeconds(2);

    private final RegistryOptions options;
    private final HttpClient http;
    /** registry → "https" or "http" once known. */
    private final Map<String, String> schemes = new ConcurrentHashMap<>();
    /** "registry/repository" → Authorization header value. */
    private final Map<String, String> auth = new ConcurrentHashMap<>();

    public RegistryClient(RegistryOptions options) {
        this.options = options;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(options.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER);
        if (options.caCertificates() != null) {
            b.sslContext(TrustedCertificates.sslContext(options.caCertificates()));
        }
        this.http = b.build();
    }

    /**
     * Finds the image a reference names: its manifest (for linux/amd64 if the reference names a
     * list) and its config, both verified. The result reads its layers from this client.
     *
     * @throws BasaltException.NotFound if the registry has no such manifest
     * @throws BasaltException.PermissionDenied if the registry refuses (401, 403)
     * @throws BasaltException.InvalidArgument for a list without linux/amd64, an image for another
     *         platform, or a document that does not match its digest
     * @throws BasaltException.Unavailable for a registry that cannot be reached or answers 5xx
     * @throws BasaltException.TimedOut if it does not answer in time
     */
    public ResolvedImage resolve(ImageReference ref) {
        String what = ref.toString();
        Fetched doc = fetchManifest(ref, ref.manifestReference(), ref.digest());
        Digest manifestDigest = doc.digest();
        if (OciJson.isIndex(doc.mediaType(), doc.body())) {
            OciJson.Index index = OciJson.parse(doc.body(), OciJson.Index.class, what + ": manifest list");
            OciJson.Descriptor chosen = ResolvedImage.pickPlatform(index, what);
            doc = fetchManifest(ref, chosen.digest(), chosen.parsedDigest());
            manifestDigest = chosen.parsedDigest();
            if (OciJson.isIndex(doc.mediaType(), doc.body())) {
                throw new BasaltException.InvalidArgument(what + ": the list's linux/amd64 entry is another list");
            }
        }
        OciJson.Manifest manifest = OciJson.parse(doc.body(), OciJson.Manifest.class, what + ": manifest");
        if (manifest.config() == null) {
            throw new BasaltException.InvalidArgument(what + ": the manifest has no config");
        }
        BlobSource blobs = blobs(ref);
        byte[] configBytes;
        try {
            configBytes = blobs.read(manifest.config(), what + ": config " + manifest.config().digest());
        } catch (IOException e) {
            throw new BasaltException.Unavailable(what + ": cannot read the config: " + e, e);
        }
        OciJson.ConfigFile config = OciJson.parse(configBytes, OciJson.ConfigFile.class, what + ": config");
        return new ResolvedImage(what, manifestDigest, manifest, manifest.config().parsedDigest(), config, blobs);
    }

    /** The blobs of a reference's repository. */
    public BlobSource blobs(ImageReference ref) {
        return descriptor -> {
            Digest digest = descriptor.parsedDigest();
            Response r = get(ref, "/blobs/" + digest, null, "blob " + digest.shortForm() + " of " + ref);
            return r.body();
        };
    }

    /** A manifest document with its media type and digest. */
    private record Fetched(byte[] body, String mediaType, Digest digest) {
    }

    private Fetched fetchManifest(ImageReference ref, String reference, Digest expected) {
        String what = "manifest " + reference + " of " + ref.registry() + "/" + ref.repository();
        Response r = get(ref, "/manifests/" + reference, OciJson.ACCEPT, what);
        byte[] body;
        try (InputStream in = r.body()) {
            body = in.readNBytes(OciJson.MAX_DOCUMENT + 1);
        } catch (IOException e) {
            throw new BasaltException.Unavailable("cannot read " + what + ": " + e.getMessage(), e);
        }
        if (body.length > OciJson.MAX_DOCUMENT) {
            throw new BasaltException.InvalidArgument(what + " is larger than " + OciJson.MAX_DOCUMENT + " bytes");
        }
        Digest actual = Digest.sha256(body);
        if (expected != null && !expected.matches(body)) {
            throw new BasaltException.InvalidArgument(what + " does not match its digest " + expected
                    + "; the image is refused");
        }
        String claimed = r.header("docker-content-digest");
        if (claimed != null && claimed.startsWith("sha256:") && !claimed.equals(actual.toString())) {
            throw new BasaltException.InvalidArgument(what + ": the registry says its digest is " + claimed
                    + " but its bytes hash to " + actual + "; the image is refused");
        }
        return new Fetched(body, r.header("content-type"), expected != null ? expected : actual);
    }

    /** A successful response: headers and a body to read and close. */
    private record Response(HttpResponse<?> raw, InputStream body) {
        String header(String name) {
            return raw.headers().firstValue(name).orElse(null);
        }
    }

    /** GET {@code /v2/<repository><path>}: authenticates when challenged (once), follows redirects. */
    private Response get(ImageReference ref, String path, String accept, String what) {
        String key = ref.registry() + "/" + ref.repository();
        boolean authenticated = false;
        while (true) {
            URI uri = URI.create(scheme(ref) + "://" + ref.apiHost() + "/v2/" + ref.repository() + path);
            Exchange x = send(ref, uri, accept, auth.get(key), what);
            int status = x.response.statusCode();
            if (status == 401 && !authenticated) {
                String challenge = x.response.headers().firstValue("www-authenticate").orElse(null);
                x.discard();
                auth.put(key, authenticate(ref, Challenge.parse(challenge), what));
                authenticated = true;
                continue;
            }
            if (status / 100 == 2) {
                return new Response(x.response, x.body);
            }
            throw failure(ref, x, what);
        }
    }

    private record Exchange(HttpResponse<?> response, IdleTimeoutBody body) {
        String errorText() {
            try (InputStream in = body) {
                String text = new String(in.readNBytes(ERROR_BODY), StandardCharsets.UTF_8);
                try {
                    JsonNode errors = JSON.readTree(text).path("errors");
                    if (errors.isArray() && !errors.isEmpty()) {
                        JsonNode e = errors.get(0);
                        return e.path("code").asText("") + ": " + e.path("message").asText("");
                    }
                } catch (IOException notJson) {
                    // plain text
                }
                return text.strip().replaceAll("\\s+", " ");
            } catch (IOException | BasaltException e) {
                return "";
            }
        }

        void discard() {
            body.close();
        }
    }

    /** One request with redirects followed; any status. */
    private Exchange send(ImageReference ref, URI uri, String accept, String authorization, String what) {
        URI target = uri;
        String authHeader = authorization;
        for (int hop = 0; ; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(target).GET().timeout(options.idleTimeout())
                    .header("User-Agent", "basalt");
            if (accept != null) {
                b.header("Accept", accept);
            }
            if (authHeader != null) {
                b.header("Authorization", authHeader);
            }
            IdleTimeoutBody body = new IdleTimeoutBody(options.idleTimeout(), what + " from " + ref.registry());
            HttpResponse<java.util.concurrent.Flow.Publisher<java.util.List<java.nio.ByteBuffer>>> response;
            try {
                response = http.send(b.build(), HttpResponse.BodyHandlers.ofPublisher());
                response.body().subscribe(body);
            } catch (HttpConnectTimeoutException e) {
                throw new BasaltException.TimedOut("cannot connect to registry " + ref.registry() + " within "
                        + options.connectTimeout().toSeconds() + " s (" + what + ")", e);
            } catch (HttpTimeoutException e) {
                throw new BasaltException.TimedOut("registry " + ref.registry() + " did not answer within "
                        + options.idleTimeout().toSeconds() + " s (" + what + ")", e);
            } catch (ConnectException e) {
                throw new BasaltException.Unavailable("cannot connect to registry " + ref.registry() + " (" + target
                        + "): " + (e.getMessage() == null ? "connection refused" : e.getMessage()), e);
            } catch (SSLException e) {
                throw new BasaltException.Unavailable("TLS with registry " + ref.registry() + " failed: " + e.getMessage()
                        + (options.caCertificates() == null ? " (a private CA? give its certificate)" : ""), e);
            } catch (IOException e) {
                throw new BasaltException.Unavailable("registry " + ref.registry() + " failed " + what + ": " + e, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new BasaltException.Unavailable("interrupted while fetching " + what, e);
            }
            int status = response.statusCode();
            String location = response.headers().firstValue("location").orElse(null);
            if (status / 100 != 3 || location == null) {
                return new Exchange(response, body);
            }
            body.close();
            if (hop == MAX_REDIRECTS) {
                throw new BasaltException.Unavailable("registry " + ref.registry() + " redirected " + what + " more than "
                        + MAX_REDIRECTS + " times");
            }
            URI next = target.resolve(location);
            if (!"https".equals(next.getScheme()) && !("http".equals(next.getScheme()) && isLoopback(next.getHost()))) {
                throw new BasaltException.PermissionDenied("registry " + ref.registry() + " redirected " + what + " to "
                        + next.getScheme() + "://" + next.getHost() + ", which is not HTTPS; refused");
            }
            if (!sameOrigin(target, next)) {
                authHeader = null; // credentials stay with the registry
            }
            target = next;
        }
    }

    private BasaltException failure(ImageReference ref, Exchange x, String what) {
        int status = x.response.statusCode();
        String text = x.errorText();
        String detail = text.isEmpty() ? "" : ": " + text;
        return switch (status) {
            case 401, 403 -> new BasaltException.PermissionDenied("registry " + ref.registry() + " refused " + what
                    + " (" + status + ")" + detail + (options.hasCredentials() ? " (with the credentials given)"
                    : "; give credentials (--username, --password-stdin)"));
            case 404 -> new BasaltException.NotFound("registry " + ref.registry() + " has no " + what + " (404)" + detail);
            case 429 -> new BasaltException.Unavailable("registry " + ref.registry() + " is limiting requests (429) for "
                    + what + detail + "; try later");
            default -> status >= 500
                    ? new BasaltException.Unavailable("registry " + ref.registry() + " failed " + what + " (" + status + ")" + detail)
                    : new BasaltException.InvalidArgument("registry " + ref.registry() + " refused " + what + " (" + status
                    + ")" + detail);
        };
    }

    /** The Authorization header a challenge asks for. */
    private String authenticate(ImageReference ref, Challenge challenge, String what) {
        if (challenge == null) {
            throw new BasaltException.PermissionDenied("registry " + ref.registry() + " refused " + what
                    + " (401) without saying how to authenticate");
        }
        switch (challenge.scheme()) {
            case "basic" -> {
                if (!options.hasCredentials()) {
                    throw new BasaltException.PermissionDenied("registry " + ref.registry() + " needs a user name and"
                            + " password for " + what + "; give credentials (--username, --password-stdin)");
                }
                requireSafeTransport(ref, scheme(ref), ref.hostName(), "basic credentials");
                return basic();
            }
            case "bearer" -> {
                return "Bearer " + token(ref, challenge, what);
            }
            default -> throw new BasaltException.PermissionDenied("registry " + ref.registry() + " asks for "
                    + challenge.scheme() + " authentication, which Basalt does not speak (basic and bearer only)");
        }
    }

    private String token(ImageReference ref, Challenge challenge, String what) {
        String realm = challenge.params().get("realm");
        if (realm == null || realm.isBlank()) {
            throw new BasaltException.PermissionDenied("registry " + ref.registry() + " asks for a bearer token but names"
                    + " no token service (realm)");
        }
        URI realmUri;
        try {
            realmUri = URI.create(realm);
        } catch (IllegalArgumentException e) {
            throw new BasaltException.PermissionDenied("registry " + ref.registry() + " names an invalid token service '"
                    + realm + "'", e);
        }
        if (realmUri.getHost() == null) {
            throw new BasaltException.PermissionDenied("registry " + ref.registry() + " names a token service without a"
                    + " host: '" + realm + "'");
        }
        if (options.hasCredentials()) {
            requireSafeTransport(ref, realmUri.getScheme(), realmUri.getHost(), "credentials to its token service");
        } else if (!"https".equals(realmUri.getScheme()) && !isLoopback(realmUri.getHost())) {
            throw new BasaltException.PermissionDenied("registry " + ref.registry() + " names a token service over "
                    + realmUri.getScheme() + " (" + realm + "); only HTTPS is used");
        }
        StringBuilder q = new StringBuilder();
        String service = challenge.params().get("service");
        if (service != null) {
            q.append("service=").append(URLEncoder.encode(service, StandardCharsets.UTF_8)).append('&');
        }
        q.append("scope=").append(URLEncoder.encode("repository:" + ref.repository() + ":pull", StandardCharsets.UTF_8));
        URI uri = URI.create(realm + (realm.contains("?") ? "&" : "?") + q);
        Exchange x = send(ref, uri, "application/json", options.hasCredentials() ? basic() : null,
                "a token for " + what);
        int status = x.response.statusCode();
        if (status / 100 != 2) {
            String text = x.errorText();
            if (status == 401 || status == 403) {
                throw new BasaltException.PermissionDenied("the token service of registry " + ref.registry() + " ("
                        + realmUri.getHost() + ") refused " + (options.hasCredentials() ? "the credentials" : "anonymous access")
                        + " for " + ref.repository() + " (" + status + ")" + (text.isEmpty() ? "" : ": " + text));
            }
            throw new BasaltException.Unavailable("the token service of registry " + ref.registry() + " failed (" + status
                    + ")" + (text.isEmpty() ? "" : ": " + text));
        }
        try (InputStream in = x.body) {
            JsonNode json = JSON.readTree(in.readNBytes(64 * 1024));
            String token = json.path("token").asText(json.path("access_token").asText(""));
            if (token.isEmpty() || token.length() > 16 * 1024 || !token.matches("[\\x21-\\x7e]+")) {
                throw new BasaltException.PermissionDenied("the token service of registry " + ref.registry()
                        + " answered without a usable token");
            }
            log.debug("got a bearer token for {} from {}", ref.repository(), realmUri.getHost());
            return token;
        } catch (IOException e) {
            throw new BasaltException.PermissionDenied("the token service of registry " + ref.registry()
                    + " answered something that is not a token: " + e.getMessage(), e);
        }
    }

    private void requireSafeTransport(ImageReference ref, String scheme, String host, String what) {
        if (!"https".equals(scheme) && !isLoopback(host)) {
            throw new BasaltException.PermissionDenied("registry " + ref.registry() + " would get " + what + " over "
                    + scheme + "; Basalt sends credentials only over HTTPS (or to a registry on loopback)");
        }
    }

    private String basic() {
        return "Basic " + Base64.getEncoder().encodeToString((options.username() + ":" + options.password())
                .getBytes(StandardCharsets.UTF_8));
    }

    /** "https", or "http" for a loopback registry that does not speak TLS (found out once). */
    private String scheme(ImageReference ref) {
        String known = schemes.get(ref.registry());
        if (known != null) {
            return known;
        }
        if (!ref.isLoopback()) {
            schemes.put(ref.registry(), "https");
            return "https";
        }
        URI ping = URI.create("https://" + ref.apiHost() + "/v2/");
        String scheme = "https";
        try (HttpClient probe = probe()) {
            // on loopback a TLS handshake takes milliseconds: a server that has not answered one in
            // PROBE_TIMEOUT is not speaking TLS (a plain HTTP server waits for a request line)
            HttpResponse<Void> r = probe.send(HttpRequest.newBuilder(ping).GET().timeout(PROBE_TIMEOUT).build(),
                    HttpResponse.BodyHandlers.discarding());
            log.debug("registry {} speaks TLS ({})", ref.registry(), r.statusCode());
        } catch (SSLException e) {
            if (!isPlainHttp(e)) {
                throw new BasaltException.Unavailable("TLS with registry " + ref.registry() + " failed: " + e.getMessage()
                        + (options.caCertificates() == null ? " (a private CA? give its certificate)" : ""), e);
            }
            scheme = "http";
            log.debug("registry {} on loopback does not speak TLS: plain HTTP", ref.registry());
        } catch (ConnectException e) {
            throw new BasaltException.Unavailable("cannot connect to registry " + ref.registry() + ": "
                    + (e.getMessage() == null ? "connection refused" : e.getMessage()), e);
        } catch (IOException e) {
            scheme = "http";
            log.debug("registry {}: TLS attempt failed ({}); plain HTTP", ref.registry(), e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BasaltException.Unavailable("interrupted while contacting registry " + ref.registry(), e);
        }
        schemes.put(ref.registry(), scheme);
        return scheme;
    }

    private HttpClient probe() {
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(PROBE_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER);
        if (options.caCertificates() != null) {
            b.sslContext(TrustedCertificates.sslContext(options.caCertificates()));
        }
        return b.build();
    }

    private static boolean isPlainHttp(SSLException e) {
        String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        return m.contains("unsupported or unrecognized ssl message") || m.contains("plaintext");
    }

    private static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equals(b.getScheme()) && String.valueOf(a.getHost()).equalsIgnoreCase(String.valueOf(b.getHost()))
                && a.getPort() == b.getPort();
    }

    static boolean isLoopback(String host) {
        if (host == null) {
            return false;
        }
        String h = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        return h.equals("localhost") || h.equals("::1") || h.matches("127(\\.[0-9]{1,3}){3}");
    }

    @Override
    public void close() {
        http.close();
    }
}
