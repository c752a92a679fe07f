package dev.basalt.protocol;

import java.util.Objects;

/**
 * A frame the decoder rejected, with the code the receiver answers with
 * ({@code BAD_FRAME}, {@code FRAME_TOO_LARGE}, {@code UNKNOWN_TYPE} or {@code INVALID_ARGUMENT})
 * and a human-readable detail. The decoder stays in sync after it.
 */
public record FrameError(int streamId, ErrorCode code, String detail) implements Decoded {
    public FrameError {
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(detail, "detail");
    }
}
