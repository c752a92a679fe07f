package dev.basalt.api;

import java.time.Instant;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * An image in the image store: a root file system sandboxes boot from (on a copy-on-write disk).
 *
 * @param name      the name it is stored under, e.g. {@code base}, {@code tools/python:3.12} or
 *                  {@code 127.0.0.1:5000/team/app:v2} (see {@link #requireValidName})
 * @param id        identity of its content: several names may share one id
 * @param sizeBytes disk space its root file system takes on the host
 * @param source    where it came from, for people: {@code debian bookworm (recipe base)},
 *                  {@code registry 127.0.0.1:5000/app:v2@sha256:…}, {@code oci-archive /path},
 *                  {@code dockerfile /ctx/Dockerfile}
 * @param created   when it was stored
 * @param config    defaults for commands run in it
 */
public record ImageInfo(String name, String id, long sizeBytes, String source, Instant created, ImageConfig config) {
    private static final String COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
    private static final String DOMAIN = "[a-z0-9]+(?:[.-][a-z0-9]+)*(?::[0-9]{1,5})?";
    private static final String TAG = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
    private static final Pattern NAME = Pattern.compile("(?:" + DOMAIN + "/)?" + COMPONENT + "(?:/" + COMPONENT + ")*"
            + "(?::" + TAG + ")?");
    /** Longest image name accepted. */
    public static final int MAX_NAME_LENGTH = 255;

    public ImageInfo {
        requireValidName(name);
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(created, "created");
        Objects.requireNonNull(config, "config");
        if (sizeBytes < 0) {
            throw new IllegalArgumentException("sizeBytes must be >= 0");
        }
    }

    /**
     * Throws {@link BasaltException.InvalidArgument} unless {@code name} is a valid image name:
     * slash-separated lowercase components ({@code [a-z0-9]} joined by {@code .}, {@code _},
     * {@code __} or dashes; so never {@code ..}), optionally a registry host with port first and
     * a {@code :tag} last, at most 255 characters — the names docker uses.
     */
    public static String requireValidName(String name) {
        if (name == null || name.length() > MAX_NAME_LENGTH || !NAME.matcher(name).matches()) {
            throw new BasaltException.InvalidArgument("image name '" + name + "' is invalid: use lowercase "
                    + "components of [a-z0-9] joined by '.', '_' or '-', separated by '/', optionally a "
                    + "registry host[:port]/ first and a :tag last (e.g. base, tools/python:3.12)");
        }
        return name;
    }
}
