package dev.basalt.protocol;

/** The error codes carried by {@code ERROR} frames ({@code docs/protocol.md}, "Error codes"). */
public enum ErrorCode {
    BAD_FRAME(1),
    FRAME_TOO_LARGE(2),
    UNKNOWN_TYPE(3),
    UNSUPPORTED_VERSION(4),
    STREAM_BUSY(5),
    INVALID_ARGUMENT(6),
    NOT_FOUND(7),
    PERMISSION(8),
    EXISTS(9),
    NOT_A_DIRECTORY(10),
    IS_A_DIRECTORY(11),
    NOT_EMPTY(12),
    NO_SPACE(13),
    IO(14),
    CANCELLED(15),
    RESOURCE_EXHAUSTED(16);

    private static final ErrorCode[] BY_CODE = new ErrorCode[17];

    static {
        for (ErrorCode c : values()) {
            BY_CODE[c.code] = c;
        }
    }

    private final int code;

    ErrorCode(int code) {
        this.code = code;
    }

    /** The u16 value on the wire. */
    public int code() {
        return code;
    }

    /** The code with this wire value, or {@code null} if there is none. */
    public static ErrorCode fromCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
