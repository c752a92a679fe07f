package dev.basalt.e2b;

import dev.basalt.api.BasaltException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * The API keys the control API accepts in {@code X-API-KEY}. Only their SHA-256 digests are kept,
 * and a presented key is compared against each in constant time.
 */
public final class ApiKeys {
    /** Shortest key accepted, so that a key cannot be guessed. */
    public static final int MIN_LENGTH = 16;

    private final List<byte[]> digests;

    private ApiKeys(List<byte[]> digests) {
        if (digests.isEmpty()) {
            throw new BasaltException.InvalidArgument("no API key given: the E2B API needs at least one");
        }
        this.digests = List.copyOf(digests);
    }

    /** The given keys, each at least {@value #MIN_LENGTH} characters without whitespace. */
    public static ApiKeys of(List<String> keys) {
        List<byte[]> digests = new ArrayList<>();
        for (String key : keys) {
            if (key.length() < MIN_LENGTH || key.chars().anyMatch(c -> c <= ' ' || c == 0x7F)) {
                throw new BasaltException.InvalidArgument("an API key must be at least " + MIN_LENGTH
                        + " printable characters without spaces");
            }
            digests.add(sha256(key));
        }
        return new ApiKeys(digests);
    }

    /** One key per line of {@code file}; blank lines and lines starting with '#' are skipped. */
    public static ApiKeys fromFile(Path file) {
        try {
            return of(Files.readAllLines(file, StandardCharsets.UTF_8).stream()
                    .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList());
        } catch (IOException e) {
            throw new BasaltException.InvalidArgument("cannot read the API key file " + file + ": " + e.getMessage(), e);
        }
    }

    /** True if {@code presented} is one of the keys. */
    public boolean accepts(String presented) {
        if (presented == null || presented.isEmpty()) {
            return false;
        }
        byte[] digest = sha256(presented);
        boolean match = false;
        for (byte[] d : digests) {
            match |= MessageDigest.isEqual(d, digest);
        }
        return match;
    }

    static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
