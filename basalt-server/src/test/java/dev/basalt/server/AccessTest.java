package dev.basalt.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecRequest;
import dev.basalt.grpc.BearerToken;
import dev.basalt.grpc.RemoteSandboxes;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** TCP access: TLS only, and a bearer token on every call; the unix socket needs none. */
@ExtendWith(GrpcVms.class)
class AccessTest {
    private static final String TOKEN = "0123456789abcdef0123456789abcdef";

    @TempDir
    static Path dir;
    static Path cert;
    static Path key;
    static Path tokenFile;

    @BeforeAll
    static void selfSignedCertificate() throws Exception {
        cert = dir.resolve("cert.pem");
        key = dir.resolve("key.pem");
        tokenFile = dir.resolve("token");
        Files.writeString(tokenFile, TOKEN + "\n");
        Files.setPosixFilePermissions(tokenFile, PosixFilePermissions.fromString("rw-------"));
        writeSelfSigned(dir, cert, key);
    }

    /** A self-signed certificate for localhost and 127.0.0.1 made with the JDK's keytool, the key exported as PKCS#8 PEM. */
    static void writeSelfSigned(Path dir, Path cert, Path key) throws Exception {
        Path store = dir.resolve("server.p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        run(keytool, "-genkeypair", "-alias", "basaltd", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
                "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-keystore", store.toString(),
                "-storetype", "PKCS12", "-storepass", "changeit", "-keypass", "changeit");
        run(keytool, "-exportcert", "-rfc", "-alias", "basaltd", "-keystore", store.toString(), "-storepass", "changeit",
                "-file", cert.toString());
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(store.toFile())) {
            ks.load(in, "changeit".toCharArray());
        }
        PrivateKey pk = (PrivateKey) ks.getKey("basaltd", "changeit".toCharArray());
        Files.writeString(key, "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(pk.getEncoded()) + "\n-----END PRIVATE KEY-----\n");
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", command) + ": " + out).isZero();
    }

    private static ServerOptions tlsOptions() {
        return ServerOptions.defaults().withTls(cert, key).withTokenFile(tokenFile);
    }

    @Test
    void tlsWithTheTokenWorks(GrpcVms.Stack s) {
        try (BasaltServer server = BasaltServer.onTcp("127.0.0.1", 0, s.manager(), tlsOptions()).start();
             RemoteSandboxes client = RemoteSandboxes.tls("localhost", server.port(), cert, BearerToken.fromFile(tokenFile))) {
            assertThat(client.exec(s.sharedId(), ExecRequest.of("echo", "over tls")).stdoutText()).isEqualTo("over tls\n");
            assertThat(client.list()).isNotEmpty();
        }
    }

    @Test
    void missingOrWrongTokenIsRefused(GrpcVms.Stack s) {
        try (BasaltServer server = BasaltServer.onTcp("127.0.0.1", 0, s.manager(), tlsOptions()).start();
             RemoteSandboxes none = RemoteSandboxes.tls("localhost", server.port(), cert, null);
             RemoteSandboxes wrong = RemoteSandboxes.tls("localhost", server.port(), cert,
                     new BearerToken("0123456789abcdef0123456789abcdeX"));
             RemoteSandboxes shorter = RemoteSandboxes.tls("localhost", server.port(), cert, new BearerToken("0123"))) {
            assertThatThrownBy(() -> none.inspect(s.sharedId())).isInstanceOf(BasaltException.PermissionDenied.class)
                    .hasMessageContaining("requires a bearer token");
            assertThatThrownBy(() -> none.exec(s.sharedId(), ExecRequest.of("true")))
                    .isInstanceOf(BasaltException.PermissionDenied.class);
            assertThatThrownBy(() -> wrong.list()).isInstanceOf(BasaltException.PermissionDenied.class)
                    .hasMessageContaining("not accepted");
            assertThatThrownBy(() -> shorter.list()).isInstanceOf(BasaltException.PermissionDenied.class)
                    .hasMessageContaining("not accepted");
            assertThatThrownBy(() -> wrong.writeFile(s.sharedId(), "/tmp/nope", new java.io.ByteArrayInputStream(new byte[3]), 0644))
                    .isInstanceOf(BasaltException.PermissionDenied.class);
        }
    }

    @Test
    void plaintextToTheTlsPortFails(GrpcVms.Stack s) {
        try (BasaltServer server = BasaltServer.onTcp("127.0.0.1", 0, s.manager(), tlsOptions()).start();
             RemoteSandboxes plain = RemoteSandboxes.tcp("127.0.0.1", server.port());
             RemoteSandboxes plainWithToken = new RemoteSandboxes(Grpc.newChannelBuilder("127.0.0.1:" + server.port(),
                     InsecureChannelCredentials.create()).build(), new BearerToken(TOKEN))) {
            assertThatThrownBy(() -> plain.list()).isInstanceOf(BasaltException.Unavailable.class);
            assertThatThrownBy(() -> plainWithToken.list()).isInstanceOf(BasaltException.Unavailable.class);
        }
        try (BasaltServer server = BasaltServer.onTcp("127.0.0.1", 0, s.manager()).start();
             RemoteSandboxes plainWithToken = new RemoteSandboxes(Grpc.newChannelBuilder("127.0.0.1:" + server.port(),
                     InsecureChannelCredentials.create()).build(), new BearerToken(TOKEN))) {
            // a client never sends its token in the clear, even to a (loopback, plaintext) server that would take it
            assertThatThrownBy(() -> plainWithToken.list()).isInstanceOf(BasaltException.PermissionDenied.class)
                    .hasMessageContaining("without TLS");
        }
    }

    @Test
    void tcpWithoutTlsAndTokenIsRefusedUnlessLoopbackPlaintext(GrpcVms.Stack s) {
        assertThatThrownBy(() -> BasaltServer.onTcp("0.0.0.0", 0, s.manager()))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("loopback only");
        assertThatThrownBy(() -> BasaltServer.onTcp("127.0.0.1", 0, s.manager(), ServerOptions.defaults().withTokenFile(tokenFile)))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("TLS");
        assertThatThrownBy(() -> BasaltServer.onTcp("127.0.0.1", 0, s.manager(), ServerOptions.defaults().withTls(cert, key)))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("token");
        assertThatThrownBy(() -> ServerOptions.defaults().withTls(cert, null)).isInstanceOf(BasaltException.InvalidArgument.class);
        assertThatThrownBy(() -> BasaltServer.onTcp("127.0.0.1", 0, s.manager(), tlsOptions().withTls(key, cert)))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("cannot load");
    }

    @Test
    void theUnixSocketNeedsNoToken(GrpcVms.Stack s) {
        Path socket = dir.resolve("access.sock");
        try (BasaltServer server = BasaltServer.onUnixSocket(socket, s.manager(), tlsOptions()).start();
             RemoteSandboxes client = RemoteSandboxes.unixSocket(socket)) {
            assertThat(client.inspect(s.sharedId()).id()).isEqualTo(s.sharedId());
        }
        assertThat(List.of(socket)).allMatch(p -> !Files.exists(p));
    }
}
