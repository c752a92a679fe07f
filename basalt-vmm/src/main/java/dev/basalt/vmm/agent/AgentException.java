package dev.basalt.vmm.agent;

import dev.basalt.protocol.ErrorCode;
import java.util.Optional;

/**
 * An agent operation failed. When the agent answered {@code ERROR}, {@link #code()} holds
 * its protocol error code and the message holds the agent's text (which names the path
 * or program involved). Subclasses report a dead channel and an expired deadline.
 */
public class AgentException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient ErrorCode code;

    public AgentException(ErrorCode code, String message) {
        this(code, message, null);
    }

    public AgentException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    /** The protocol error code; empty for local failures (disconnect, timeout). */
    public Optional<ErrorCode> code() {
        return Optional.ofNullable(code);
    }

    /** True when the agent answered with {@code code}. */
    public boolean is(ErrorCode code) {
        return this.code == code;
    }
}
