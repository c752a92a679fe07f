package dev.basalt.image.registry;

import dev.basalt.image.TestImages;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A real OCI registry for tests: Debian's {@code docker-registry} on a free loopback port, its
 * storage in a directory the test owns, plain HTTP or TLS, anonymous, htpasswd (basic) or token
 * (bearer) authentication. Closing it kills the process.
 */
final class RegistryFixture implements AutoCloseable {
    /** The test user and its password; the htpasswd line holds its bcrypt hash (cost 4). */
    static final String USER = "basalt";
    static final String PASSWORD = "s3cret-pass";
    private static final String HTPASSWD = USER + ":$2b$04$B2q0E9YEJbX2RZpN.fsL/OwS3mkI0tM0PDXw9aip2sA/Zhf8o.5rK\n";

    sealed interface Auth {
    }

    record Anonymous() implements Auth {
    }

    record Basic() implements Auth {
    }

    /** Bearer tokens from {@code realm}, signed by the key of {@code certificate}. */
    record Token(String realm, Path certificate) implements Auth {
    }

    private final Process process;
    final int port;
    final String host;

    private RegistryFixture(Process process, int port) {
        this.process = process;
        this.port = port;
        this.host = "127.0.0.1:" + port;
    }

    /**
     * Starts a registry over {@code storage}.
     *
     * @param tls a certificate and key (PEM) to serve HTTPS with, or null for plain HTTP
     */
    static RegistryFixture start(Path dir, Path storage, Auth auth, Path[] tls) throws IOException {
        int port = freePort();
        Files.createDirectories(dir);
        StringBuilder yml = new StringBuilder("""
                version: 0.1
                log:
                  level: error
                  accesslog:
                    disabled: true
                storage:
                  filesystem:
                    rootdirectory: %s
                http:
                  addr: 127.0.0.1:%d
                """.formatted(storage, port));
        if (tls != null) {
            yml.append("  tls:\n    certificate: ").append(tls[0]).append("\n    key: ").append(tls[1]).append('\n');
        }
        switch (auth) {
            case Anonymous a -> { }
            case Basic b -> {
                Path htpasswd = Files.writeString(dir.resolve("htpasswd"), HTPASSWD);
                yml.append("auth:\n  htpasswd:\n    realm: basalt-test\n    path: ").append(htpasswd).append('\n');
            }
            case Token t -> yml.append("auth:\n  token:\n    realm: ").append(t.realm())
                    .append("\n    service: basalt-test-registry\n    issuer: basalt-test-issuer\n    rootcertbundle: ")
                    .append(t.certificate()).append('\n');
        }
        Path config = Files.writeString(dir.resolve("config-" + port + ".yml"), yml);
        Process p = new ProcessBuilder("docker-registry", "serve", config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("registry-" + port + ".log").toFile()).start();
        RegistryFixture r = new RegistryFixture(p, port);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return r;
            } catch (IOException e) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    r.close();
                    throw new IOException("docker-registry did not start: " + Files.readString(dir.resolve("registry-" + port + ".log")));
                }
                sleep(50);
            }
        }
    }

    /** Pushes an image with skopeo (the registry must be anonymous and plain HTTP). */
    void push(String source, String repoAndTag, boolean all) throws IOException {
        if (all) {
            TestImages.skopeo("copy", "-q", "--all", "--dest-tls-verify=false", source, "docker://" + host + "/" + repoAndTag);
        } else {
            TestImages.skopeo("copy", "-q", "--dest-tls-verify=false", source, "docker://" + host + "/" + repoAndTag);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
