package dev.basalt.image.registry;

import dev.basalt.api.BasaltException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How to talk to a registry.
 *
 * @param username       user for basic auth or for the token service; null for anonymous
 * @param password       its password or token; null for anonymous
 * @param caCertificates a PEM file of CA certificates to trust besides the JDK's, or null
 * @param connectTimeout how long to wait for a connection
 * @param idleTimeout    how long a request may wait for the response to start, or a body for its next bytes
 */
public record RegistryOptions(String username, String password, Path caCertificates, Duration connectTimeout,
                              Duration idleTimeout) {
    public RegistryOptions {
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        if ((username == null) != (password == null)) {
            throw new BasaltException.InvalidArgument("registry credentials need both a user name and a password");
        }
        if (username != null && (username.isEmpty() || username.contains(":"))) {
            throw new BasaltException.InvalidArgument("registry user name must be non-empty and have no ':'");
        }
    }

    /** Anonymous, the JDK's CAs, 10 s to connect, 60 s of silence at most. */
    public static RegistryOptions defaults() {
        return new RegistryOptions(null, null, null, Duration.ofSeconds(10), Duration.ofSeconds(60));
    }

    public RegistryOptions withCredentials(String user, String pass) {
        return new RegistryOptions(user, pass, caCertificates, connectTimeout, idleTimeout);
    }

    public RegistryOptions withCaCertificates(Path pem) {
        return new RegistryOptions(username, password, pem, connectTimeout, idleTimeout);
    }

    public RegistryOptions withTimeouts(Duration connect, Duration idle) {
        return new RegistryOptions(username, password, caCertificates, connect, idle);
    }

    boolean hasCredentials() {
        return username != null;
    }

    @Override
    public String toString() {
        return "RegistryOptions[user=" + username + ", caCertificates=" + caCertificates + ", connect=" + connectTimeout
                + ", idle=" + idleTimeout + "]";
    }
}
