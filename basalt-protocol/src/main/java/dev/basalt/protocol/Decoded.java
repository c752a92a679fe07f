package dev.basalt.protocol;

/** What a {@link FrameDecoder} yields: a decoded {@link Frame} or a {@link FrameError}. */
public sealed interface Decoded permits Frame, FrameError {
    /** The stream the frame (or the error) is about; 0 for connection-level errors. */
    int streamId();
}
