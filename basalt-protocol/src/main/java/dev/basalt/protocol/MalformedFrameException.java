package dev.basalt.protocol;

/** Thrown inside the codec when a payload is malformed; becomes a {@link FrameError}. */
final class MalformedFrameException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final ErrorCode code;

    MalformedFrameException(ErrorCode code, String detail) {
        super(detail, null, false, false);
        this.code = code;
    }

    ErrorCode code() {
        return code;
    }
}
