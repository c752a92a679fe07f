package dev.basalt.grpc;

import dev.basalt.api.BasaltException;
import io.grpc.Status;

/**
 * The client half of the error mapping: a gRPC status from basaltd back to the
 * {@link BasaltException} subtype the server started from, with the server's message. The server
 * half is {@code dev.basalt.server.StatusMapping}; the two are inverses.
 */
public final class RemoteErrors {
    private RemoteErrors() {
    }

    public static BasaltException toException(Throwable t) {
        return toException(t, null);
    }

    /**
     * As {@link #toException(Throwable)}; a call that never reached the daemon (the channel could not
     * connect: no socket, nothing listening, refused) names {@code target} (null: unknown) and the
     * transport's reason instead of gRPC's bare "io exception".
     */
    public static BasaltException toException(Throwable t, String target) {
        if (t instanceof BasaltException b) {
            return b;
        }
        Status status = Status.fromThrowable(t);
        if (status.getCode() == Status.Code.UNAVAILABLE && status.getCause() != null) {
            return new BasaltException.Unavailable("cannot reach basaltd" + (target != null ? " at " + target : "")
                    + ": " + rootMessage(status.getCause()), t);
        }
        String message = status.getDescription() != null ? status.getDescription()
                : "basaltd call failed with " + status.getCode() + (status.getCause() != null ? ": " + status.getCause() : "");
        return switch (status.getCode()) {
            case NOT_FOUND -> new BasaltException.NotFound(message, t);
            case INVALID_ARGUMENT, OUT_OF_RANGE -> new BasaltException.InvalidArgument(message, t);
            case FAILED_PRECONDITION -> new BasaltException.WrongState(message);
            case ALREADY_EXISTS -> new BasaltException.AlreadyExists(message, t);
            case PERMISSION_DENIED, UNAUTHENTICATED -> new BasaltException.PermissionDenied(message, t);
            case RESOURCE_EXHAUSTED -> new BasaltException.ResourceExhausted(message, t);
            case UNAVAILABLE, CANCELLED, ABORTED -> new BasaltException.Unavailable(message, t);
            case DEADLINE_EXCEEDED -> new BasaltException.TimedOut(message, t);
            default -> new BasaltException.Internal(message, t);
        };
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root.getMessage() != null) {
            return root.getMessage();
        }
        return root instanceof java.io.FileNotFoundException ? "no such socket" : root.toString();
    }
}
