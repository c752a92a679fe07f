package dev.basalt.server;

import dev.basalt.server.metrics.ServerMetrics;
import java.nio.file.Path;

/**
 * How a {@link BasaltServer} is served beyond its address: metrics (shared by all servers of one
 * daemon), and for TCP the TLS certificate chain and private key (PEM files; the key in PKCS#8) and
 * the file holding the bearer token every call must present. A unix socket needs neither: its file
 * permissions (0660) decide who may connect.
 *
 * @param metrics     meters to record into, or null
 * @param certChain   the server's certificate chain (PEM), or null
 * @param privateKey  the server's private key (PEM, PKCS#8), or null
 * @param tokenFile   a file whose content (trimmed) is the bearer token, or null
 * @param images      the image store to serve ({@code basalt.v1.ImageService}), or null for none
 */
public record ServerOptions(ServerMetrics metrics, Path certChain, Path privateKey, Path tokenFile,
                            dev.basalt.api.Images images) {

    public ServerOptions {
        if ((certChain == null) != (privateKey == null)) {
            throw new dev.basalt.api.BasaltException.InvalidArgument(
                    "TLS needs both a certificate chain and a private key (--tls-cert and --tls-key)");
        }
    }

    /** No metrics, no TLS, no token. */
    public static ServerOptions defaults() {
        return new ServerOptions(null, null, null, null, null);
    }

    public ServerOptions withMetrics(ServerMetrics metrics) {
        return new ServerOptions(metrics, certChain, privateKey, tokenFile, images);
    }

    public ServerOptions withTls(Path certChain, Path privateKey) {
        return new ServerOptions(metrics, certChain, privateKey, tokenFile, images);
    }

    public ServerOptions withTokenFile(Path tokenFile) {
        return new ServerOptions(metrics, certChain, privateKey, tokenFile, images);
    }

    public ServerOptions withImages(dev.basalt.api.Images images) {
        return new ServerOptions(metrics, certChain, privateKey, tokenFile, images);
    }

    boolean tls() {
        return certChain != null;
    }
}
