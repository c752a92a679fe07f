package dev.basalt.api;

/**
 * The one family of errors Basalt throws. Each subtype maps to one gRPC status code in the
 * server and one exit code in the CLI; every message says what was wrong and what to do.
 */
public sealed abstract class BasaltException extends RuntimeException
        permits BasaltException.NotFound, BasaltException.InvalidArgument, BasaltException.WrongState,
                BasaltException.AlreadyExists, BasaltException.PermissionDenied,
                BasaltException.ResourceExhausted, BasaltException.Unavailable,
                BasaltException.TimedOut, BasaltException.Internal {

    protected BasaltException(String message, Throwable cause) {
        super(message, cause);
    }

    /** A sandbox, snapshot, image or guest file that does not exist. */
    public static final class NotFound extends BasaltException {
        public NotFound(String message) { super(message, null); }
        public NotFound(String message, Throwable cause) { super(message, cause); }
    }

    /** A request that can never succeed as written: bad argv, sizes, paths, flags. */
    public static final class InvalidArgument extends BasaltException {
        public InvalidArgument(String message) { super(message, null); }
        public InvalidArgument(String message, Throwable cause) { super(message, cause); }
    }

    /** The operation is not allowed in the sandbox's current state (e.g. exec on a STOPPED sandbox). */
    public static final class WrongState extends BasaltException {
        public WrongState(String message) { super(message, null); }
    }

    /** Something with that name already exists. */
    public static final class AlreadyExists extends BasaltException {
        public AlreadyExists(String message) { super(message, null); }
        public AlreadyExists(String message, Throwable cause) { super(message, cause); }
    }

    /** The guest or host refused access. */
    public static final class PermissionDenied extends BasaltException {
        public PermissionDenied(String message) { super(message, null); }
        public PermissionDenied(String message, Throwable cause) { super(message, cause); }
    }

    /** A limit was hit: memory, sandbox count, open streams, disk space. */
    public static final class ResourceExhausted extends BasaltException {
        public ResourceExhausted(String message) { super(message, null); }
        public ResourceExhausted(String message, Throwable cause) { super(message, cause); }
    }

    /** The sandbox or its guest agent cannot be reached right now (VM died, channel closed). */
    public static final class Unavailable extends BasaltException {
        public Unavailable(String message) { super(message, null); }
        public Unavailable(String message, Throwable cause) { super(message, cause); }
    }

    /** A deadline passed before the operation finished. */
    public static final class TimedOut extends BasaltException {
        public TimedOut(String message) { super(message, null); }
        public TimedOut(String message, Throwable cause) { super(message, cause); }
    }

    /** A bug or an unexpected failure of the host (QEMU missing, I/O error on the host). */
    public static final class Internal extends BasaltException {
        public Internal(String message) { super(message, null); }
        public Internal(String message, Throwable cause) { super(message, cause); }
    }
}
