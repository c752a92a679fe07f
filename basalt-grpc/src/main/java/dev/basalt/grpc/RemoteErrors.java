package dev.basalt.grpc;

import dev.basalt.api.BasaltException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The client half of the error mapping: a gRPC status from basaltd back to the
 * {@link BasaltException} subtype the server started from, with the server's message. The server
 * half is {@code dev.basalt.server.StatusMapping}; the two are inverses.
 */
public final class RemoteErrors {
    private RemoteErrors() {
    }

    public static BasaltException toException(Throwable t) {
        if (t instanceof BasaltException b) {
            return b;
        }
        Status status = Status.fromThrowable(t);
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

    /** Runs a blocking call, turning a {@link StatusRuntimeException} into a {@link BasaltException}. */
    static <T> T call(java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (StatusRuntimeException e) {
            throw toException(e);
        }
    }
}
