package dev.basalt.protocol;

/**
 * Constants of the Basalt agent protocol, version 1 (see {@code docs/protocol.md}).
 * Pure values: usable at any time from any thread.
 */
public final class Protocol {
    /** The protocol version this codec speaks, sent in {@code HELLO}. */
    public static final int VERSION = 1;
    /** Largest payload of one frame: 1 MiB. */
    public static final int MAX_PAYLOAD = 1 << 20;
    /** Largest value of the length prefix: stream id (4) + type (1) + payload. */
    public static final int MAX_FRAME_LENGTH = MAX_PAYLOAD + 5;
    /** Largest complete frame on the wire, length prefix included. */
    public static final int MAX_FRAME_BYTES = MAX_FRAME_LENGTH + 4;
    /** Initial send window of every stream, in each direction: 1 MiB. */
    public static final int INITIAL_WINDOW = 1 << 20;
    /** Largest data chunk the host puts in one data frame. */
    public static final int HOST_CHUNK = 64 * 1024;
    /** Largest data chunk the agent puts in one data frame. */
    public static final int AGENT_CHUNK = 32 * 1024;
    /** Largest u32 value, as a long. */
    public static final long U32_MAX = 0xFFFF_FFFFL;

    private Protocol() {
    }
}
