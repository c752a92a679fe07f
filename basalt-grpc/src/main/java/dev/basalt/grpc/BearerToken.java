package dev.basalt.grpc;

import dev.basalt.api.BasaltException;
import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.SecurityLevel;
import io.grpc.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executor;

/**
 * Call credentials that send {@code authorization: Bearer <token>} with every call, and only over a
 * channel with privacy and integrity (TLS or in-process): over plaintext the call fails instead of
 * leaking the token.
 */
public final class BearerToken extends CallCredentials {
    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final String header;

    public BearerToken(String token) {
        if (token == null || token.isBlank() || !token.strip().chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new BasaltException.InvalidArgument("a bearer token must be non-empty printable ASCII without spaces");
        }
        this.header = "Bearer " + token.strip();
    }

    /** The token stored in {@code file} (surrounding whitespace trimmed). */
    public static BearerToken fromFile(Path file) {
        try {
            return new BearerToken(Files.readString(file, StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new BasaltException.InvalidArgument("cannot read the token file " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
        if (info.getSecurityLevel() != SecurityLevel.PRIVACY_AND_INTEGRITY) {
            applier.fail(Status.UNAUTHENTICATED.withDescription("refusing to send the bearer token over a channel "
                    + "without TLS (" + info.getAuthority() + "): connect with TLS"));
            return;
        }
        Metadata headers = new Metadata();
        headers.put(AUTHORIZATION, header);
        applier.apply(headers);
    }

    @Override
    public String toString() {
        return "BearerToken[redacted]";
    }
}
