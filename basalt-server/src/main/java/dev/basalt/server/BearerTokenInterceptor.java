package dev.basalt.server;

import dev.basalt.api.BasaltException;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses every call that does not carry {@code authorization: Bearer <token>} with the daemon's token
 * (UNAUTHENTICATED, before the call reaches a service). The comparison is constant-time over the
 * token's bytes, so the time to refuse says nothing about how much of a guess was right.
 */
final class BearerTokenInterceptor implements ServerInterceptor {
    private static final Logger log = LoggerFactory.getLogger(BearerTokenInterceptor.class);
    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final String SCHEME = "Bearer ";
    /** Shortest token accepted: 16 characters (e.g. {@code openssl rand -hex 32} gives 64). */
    static final int MIN_TOKEN_LENGTH = 16;

    private final byte[] token;

    BearerTokenInterceptor(String token) {
        if (token == null || token.length() < MIN_TOKEN_LENGTH) {
            throw new BasaltException.InvalidArgument("the bearer token must be at least " + MIN_TOKEN_LENGTH
                    + " characters: generate one with 'openssl rand -hex 32'");
        }
        this.token = token.getBytes(StandardCharsets.US_ASCII);
    }

    /** The token in {@code file} (surrounding whitespace trimmed); warns if others may read the file. */
    static BearerTokenInterceptor fromFile(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII).strip();
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.contains(PosixFilePermission.OTHERS_READ)) {
                log.warn("the token file {} is readable by every user: chmod 600 it", file);
            }
        } catch (IOException | UnsupportedOperationException e) {
            throw new BasaltException.InvalidArgument("cannot read the token file " + file + ": " + e.getMessage(), e);
        }
        if (!text.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new BasaltException.InvalidArgument("the token in " + file + " must be printable ASCII without spaces");
        }
        return new BearerTokenInterceptor(text);
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String given = headers.get(AUTHORIZATION);
        if (given == null) {
            return refuse(call, "this basaltd requires a bearer token: send 'authorization: Bearer <token>' "
                    + "(RemoteSandboxes: the token option; basalt: --token-file)");
        }
        if (!given.regionMatches(true, 0, SCHEME, 0, SCHEME.length())
                || !MessageDigest.isEqual(token, given.substring(SCHEME.length()).strip().getBytes(StandardCharsets.US_ASCII))) {
            return refuse(call, "the bearer token was not accepted: check the token file");
        }
        return next.startCall(call, headers);
    }

    private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, String message) {
        call.close(Status.UNAUTHENTICATED.withDescription(message), new Metadata());
        return new ServerCall.Listener<>() { };
    }
}
