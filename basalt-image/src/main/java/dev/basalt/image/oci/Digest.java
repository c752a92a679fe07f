package dev.basalt.image.oci;

import dev.basalt.api.BasaltException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * A content digest, {@code sha256:<64 hex>} or {@code sha512:<128 hex>}: the only forms Basalt
 * accepts, so a digest is always safe to use as a file name.
 */
public record Digest(String algorithm, String hex) {
    private static final Pattern SHA256 = Pattern.compile("[a-f0-9]{64}");
    private static final Pattern SHA512 = Pattern.compile("[a-f0-9]{128}");

    public Digest {
        boolean ok = switch (algorithm) {
            case "sha256" -> SHA256.matcher(hex).matches();
            case "sha512" -> SHA512.matcher(hex).matches();
            default -> false;
        };
        if (!ok) {
            throw new BasaltException.InvalidArgument("invalid digest '" + algorithm + ":" + hex
                    + "' (expected sha256:<64 hex digits> or sha512:<128 hex digits>)");
        }
    }

    /** Parses {@code algorithm:hex}. */
    public static Digest parse(String text) {
        if (text == null) {
            throw new BasaltException.InvalidArgument("a descriptor has no digest");
        }
        int colon = text.indexOf(':');
        if (colon < 0) {
            throw new BasaltException.InvalidArgument("invalid digest '" + text + "' (expected algorithm:hex)");
        }
        return new Digest(text.substring(0, colon), text.substring(colon + 1));
    }

    /** The SHA-256 digest of {@code bytes}. */
    public static Digest sha256(byte[] bytes) {
        return new Digest("sha256", HexFormat.of().formatHex(newSha256().digest(bytes)));
    }

    /** A fresh hasher of this digest's algorithm. */
    public MessageDigest newHasher() {
        try {
            return MessageDigest.getInstance(algorithm.equals("sha256") ? "SHA-256" : "SHA-512");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether {@code bytes} have this digest. */
    public boolean matches(byte[] bytes) {
        return HexFormat.of().formatHex(newHasher().digest(bytes)).equals(hex);
    }

    static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The first 12 hex digits, for messages. */
    public String shortForm() {
        return algorithm + ":" + hex.substring(0, 12);
    }

    @Override
    public String toString() {
        return algorithm + ":" + hex;
    }
}
