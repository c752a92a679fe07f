package dev.basalt.server;

import dev.basalt.api.BasaltException;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where errors become gRPC statuses: each {@link BasaltException} subtype has one
 * code and keeps its message. The client's {@code dev.basalt.grpc.RemoteErrors} is the inverse.
 */
public final class StatusMapping {
    private static final Logger log = LoggerFactory.getLogger(StatusMapping.class);

    private StatusMapping() {
    }

    public static Status toStatus(Throwable t) {
        return switch (t) {
            case BasaltException b -> code(b).withDescription(b.getMessage());
            case StatusRuntimeException s -> s.getStatus();
            case StatusException s -> s.getStatus();
            case IllegalArgumentException e -> Status.INVALID_ARGUMENT.withDescription(e.getMessage());
            default -> {
                log.error("unexpected failure in a gRPC call", t);
                yield Status.INTERNAL.withDescription("internal error in basaltd: " + t);
            }
        };
    }

    static Status code(BasaltException e) {
        return switch (e) {
            case BasaltException.NotFound x -> Status.NOT_FOUND;
            case BasaltException.InvalidArgument x -> Status.INVALID_ARGUMENT;
            case BasaltException.WrongState x -> Status.FAILED_PRECONDITION;
            case BasaltException.AlreadyExists x -> Status.ALREADY_EXISTS;
            case BasaltException.PermissionDenied x -> Status.PERMISSION_DENIED;
            case BasaltException.ResourceExhausted x -> Status.RESOURCE_EXHAUSTED;
            case BasaltException.Unavailable x -> Status.UNAVAILABLE;
            case BasaltException.TimedOut x -> Status.DEADLINE_EXCEEDED;
            case BasaltException.Internal x -> Status.INTERNAL;
        };
    }
}
