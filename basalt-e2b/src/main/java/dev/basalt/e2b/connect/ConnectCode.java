package dev.basalt.e2b.connect;

import dev.basalt.api.BasaltException;

/**
 * The Connect protocol's error codes: each has the name that travels in the JSON error body and
 * the HTTP status a unary call answers with. {@link #of(BasaltException)} is the one mapping from
 * Basalt's errors.
 */
public enum ConnectCode {
    CANCELED("canceled", 499),
    UNKNOWN("unknown", 500),
    INVALID_ARGUMENT("invalid_argument", 400),
    DEADLINE_EXCEEDED("deadline_exceeded", 504),
    NOT_FOUND("not_found", 404),
    ALREADY_EXISTS("already_exists", 409),
    PERMISSION_DENIED("permission_denied", 403),
    RESOURCE_EXHAUSTED("resource_exhausted", 429),
    FAILED_PRECONDITION("failed_precondition", 400),
    ABORTED("aborted", 409),
    OUT_OF_RANGE("out_of_range", 400),
    UNIMPLEMENTED("unimplemented", 501),
    INTERNAL("internal", 500),
    UNAVAILABLE("unavailable", 503),
    DATA_LOSS("data_loss", 500),
    UNAUTHENTICATED("unauthenticated", 401);

    private final String wireName;
    private final int httpStatus;

    ConnectCode(String wireName, int httpStatus) {
        this.wireName = wireName;
        this.httpStatus = httpStatus;
    }

    /** The code as written in an error body, e.g. {@code not_found}. */
    public String wireName() {
        return wireName;
    }

    /** The HTTP status of a unary response carrying this error. */
    public int httpStatus() {
        return httpStatus;
    }

    /** The code a Basalt error travels as. */
    public static ConnectCode of(BasaltException e) {
        return switch (e) {
            case BasaltException.NotFound x -> NOT_FOUND;
            case BasaltException.InvalidArgument x -> INVALID_ARGUMENT;
            case BasaltException.WrongState x -> FAILED_PRECONDITION;
            case BasaltException.AlreadyExists x -> ALREADY_EXISTS;
            case BasaltException.PermissionDenied x -> PERMISSION_DENIED;
            case BasaltException.ResourceExhausted x -> RESOURCE_EXHAUSTED;
            case BasaltException.Unavailable x -> UNAVAILABLE;
            case BasaltException.TimedOut x -> DEADLINE_EXCEEDED;
            case BasaltException.Internal x -> INTERNAL;
        };
    }
}
