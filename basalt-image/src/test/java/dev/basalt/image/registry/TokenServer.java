package dev.basalt.image.registry;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.basalt.image.TestImages;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A token service as the distribution spec describes it (what Docker Hub's auth.docker.io is):
 * GET /token?service=…&scope=repository:NAME:pull answers a JWT signed with an RSA key whose
 * certificate the registry trusts. Gives tokens only to the test user's basic credentials.
 */
final class TokenServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer server;
    private final PrivateKey key;
    private final String certificate;
    final Path certificateFile;
    final AtomicInteger refused = new AtomicInteger();

    private TokenServer(HttpServer server, PrivateKey key, String certificate, Path certificateFile) {
        this.server = server;
        this.key = key;
        this.certificate = certificate;
        this.certificateFile = certificateFile;
    }

    static TokenServer start(Path dir) throws Exception {
        Files.createDirectories(dir);
        Path keyFile = dir.resolve("token.key");
        Path certFile = dir.resolve("token.crt");
        TestImages.run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile.toString(),
                "-out", certFile.toString(), "-days", "2", "-subj", "/CN=basalt-test-token-signer");
        String pem = Files.readString(keyFile).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        PrivateKey key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(pem)));
        X509Certificate cert;
        try (var in = Files.newInputStream(certFile)) {
            cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        TokenServer ts = new TokenServer(server, key, Base64.getEncoder().encodeToString(cert.getEncoded()), certFile);
        server.createContext("/token", ts::handle);
        server.start();
        return ts;
    }

    String realm() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/token";
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            String expected = "Basic " + Base64.getEncoder().encodeToString(
                    (RegistryFixture.USER + ":" + RegistryFixture.PASSWORD).getBytes(StandardCharsets.UTF_8));
            if (!expected.equals(x.getRequestHeaders().getFirst("Authorization"))) {
                refused.incrementAndGet();
                byte[] body = "{\"details\":\"incorrect username or password\"}".getBytes(StandardCharsets.UTF_8);
                x.sendResponseHeaders(401, body.length);
                x.getResponseBody().write(body);
                return;
            }
            Map<String, String> query = new LinkedHashMap<>();
            for (String kv : x.getRequestURI().getRawQuery().split("&")) {
                String[] p = kv.split("=", 2);
                query.put(p[0], URLDecoder.decode(p.length > 1 ? p[1] : "", StandardCharsets.UTF_8));
            }
            String[] scope = query.getOrDefault("scope", "repository::").split(":");
            String token = jwt(query.get("service"), scope[1], List.of(scope[2].split(",")));
            byte[] body = JSON.writeValueAsBytes(Map.of("token", token, "expires_in", 300));
            x.getResponseHeaders().add("Content-Type", "application/json");
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    private String jwt(String service, String repository, List<String> actions) throws Exception {
        long now = System.currentTimeMillis() / 1000;
        Map<String, Object> header = Map.of("typ", "JWT", "alg", "RS256", "x5c", List.of(certificate));
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("iss", "basalt-test-issuer");
        claims.put("sub", RegistryFixture.USER);
        claims.put("aud", service);
        claims.put("exp", now + 300);
        claims.put("nbf", now - 10);
        claims.put("iat", now);
        claims.put("jti", UUID.randomUUID().toString());
        claims.put("access", List.of(Map.of("type", "repository", "name", repository, "actions", actions)));
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String signingInput = b64.encodeToString(JSON.writeValueAsBytes(header)) + "."
                + b64.encodeToString(JSON.writeValueAsBytes(claims));
        Signature sig = Signature.getInstance("SHA256withRSA");
        sig.initSign(key);
        sig.update(signingInput.getBytes(StandardCharsets.US_ASCII));
        return signingInput + "." + b64.encodeToString(sig.sign());
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
