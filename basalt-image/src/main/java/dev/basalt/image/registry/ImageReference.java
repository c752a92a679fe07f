package dev.basalt.image.registry;

import dev.basalt.api.BasaltException;
import dev.basalt.image.oci.Digest;
import java.util.regex.Pattern;

/**
 * A reference to an image in a registry, as docker writes them: {@code [host[:port]/]repo[:tag][@digest]}.
 * Without a host the image is on Docker Hub ({@code library/} prefixed to one-component names);
 * without tag or digest the tag is {@code latest}.
 *
 * @param registry   host[:port] as given ({@code docker.io} for Docker Hub)
 * @param repository slash-separated lowercase path
 * @param tag        the tag, or null when a digest is given without one
 * @param digest     the manifest's digest, or null
 */
public record ImageReference(String registry, String repository, String tag, Digest digest) {
    private static final String COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
    private static final Pattern REPOSITORY = Pattern.compile(COMPONENT + "(?:/" + COMPONENT + ")*");
    private static final Pattern HOST = Pattern.compile("(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
            + "|\\[[0-9a-fA-F:]+\\])(?::[0-9]{1,5})?");
    private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    public static final String DOCKER_HUB = "docker.io";

    public ImageReference {
        if (registry == null || !HOST.matcher(registry).matches()) {
            throw new BasaltException.InvalidArgument("invalid registry host '" + registry + "'");
        }
        if (repository == null || repository.length() > 255 || !REPOSITORY.matcher(repository).matches()) {
            throw new BasaltException.InvalidArgument("invalid repository name '" + repository
                    + "': lowercase components of [a-z0-9] joined by '.', '_' or '-', separated by '/'");
        }
        if (tag != null && !TAG.matcher(tag).matches()) {
            throw new BasaltException.InvalidArgument("invalid tag '" + tag + "'");
        }
        if (tag == null && digest == null) {
            tag = "latest";
        }
    }

    /** Parses a reference as docker does. */
    public static ImageReference parse(String text) {
        if (text == null || text.isBlank() || text.length() > 512) {
            throw new BasaltException.InvalidArgument("invalid image reference '" + text + "'");
        }
        String rest = text;
        Digest digest = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            digest = Digest.parse(rest.substring(at + 1));
            rest = rest.substring(0, at);
        }
        String registry = DOCKER_HUB;
        int slash = rest.indexOf('/');
        if (slash > 0) {
            String first = rest.substring(0, slash);
            if (first.contains(".") || first.contains(":") || first.equals("localhost") || first.startsWith("[")) {
                registry = first;
                rest = rest.substring(slash + 1);
            }
        }
        String tag = null;
        int colon = rest.lastIndexOf(':');
        if (colon > rest.lastIndexOf('/')) {
            tag = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
        }
        if (registry.equals(DOCKER_HUB) && !rest.contains("/")) {
            rest = "library/" + rest;
        }
        try {
            return new ImageReference(registry, rest, tag, digest);
        } catch (BasaltException.InvalidArgument e) {
            throw new BasaltException.InvalidArgument("invalid image reference '" + text + "': " + e.getMessage(), e);
        }
    }

    /** The host to talk to: Docker Hub's API host for {@code docker.io}. */
    public String apiHost() {
        return registry.equals(DOCKER_HUB) ? "registry-1.docker.io" : registry;
    }

    /** The host name without the port (and without IPv6 brackets). */
    public String hostName() {
        String host = registry;
        if (host.startsWith("[")) {
            return host.substring(1, host.indexOf(']'));
        }
        int colon = host.lastIndexOf(':');
        return colon < 0 ? host : host.substring(0, colon);
    }

    /** Whether the registry is on this machine: only then is plain HTTP allowed. */
    public boolean isLoopback() {
        String h = hostName();
        return h.equals("localhost") || h.equals("::1") || h.matches("127(\\.[0-9]{1,3}){3}");
    }

    /** What to ask the registry for: the digest if there is one, else the tag. */
    public String manifestReference() {
        return digest != null ? digest.toString() : tag;
    }

    /** The image name this reference is stored under unless told otherwise: it as written, without the digest. */
    public String defaultName() {
        String repo = registry.equals(DOCKER_HUB) && repository.startsWith("library/") ? repository.substring(8) : repository;
        String host = registry.equals(DOCKER_HUB) ? "" : registry.toLowerCase(java.util.Locale.ROOT) + "/";
        return host + repo + (tag != null ? ":" + tag : "");
    }

    @Override
    public String toString() {
        return registry + "/" + repository + (tag != null ? ":" + tag : "") + (digest != null ? "@" + digest : "");
    }
}
