package dev.basalt.protocol;

import java.util.Objects;

/**
 * A message on a stream. {@code streamId} is a u32 held in an {@code int} (read it with
 * {@link Integer#toUnsignedLong}); 0 is reserved for connection-level errors.
 */
public record Frame(int streamId, Message message) implements Decoded {
    public Frame {
        Objects.requireNonNull(message, "message");
    }

    @Override
    public String toString() {
        return CanonicalText.format(this);
    }
}
