package dev.basalt.api;

import java.nio.file.Path;
import java.util.Objects;

/**
 * An image to pull from an OCI registry.
 *
 * @param reference      {@code [host[:port]/]repo[:tag][@sha256:…]} as docker writes it
 * @param name           the name to store it under, or null for the reference without its digest
 * @param username       registry user (basic auth, or for its token service); null for anonymous
 * @param password       its password or token; null for anonymous
 * @param caCertificates PEM file of CA certificates to trust besides the JDK's (a private registry), or null
 */
public record PullRequest(String reference, String name, String username, String password, Path caCertificates) {
    public PullRequest {
        Objects.requireNonNull(reference, "reference");
        if (name != null) {
            ImageInfo.requireValidName(name);
        }
        if ((username == null) != (password == null)) {
            throw new BasaltException.InvalidArgument("registry credentials need both a user name and a password");
        }
    }

    /** Anonymous, stored under the reference's own name. */
    public static PullRequest of(String reference) {
        return new PullRequest(reference, null, null, null, null);
    }

    public PullRequest withName(String newName) {
        return new PullRequest(reference, newName, username, password, caCertificates);
    }

    public PullRequest withCredentials(String user, String pass) {
        return new PullRequest(reference, name, user, pass, caCertificates);
    }

    public PullRequest withCaCertificates(Path pem) {
        return new PullRequest(reference, name, username, password, pem);
    }

    /** Never shows the password. */
    @Override
    public String toString() {
        return "PullRequest[reference=" + reference + ", name=" + name + ", username=" + username
                + (password == null ? "" : ", password=***") + ", caCertificates=" + caCertificates + "]";
    }
}
