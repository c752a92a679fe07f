package dev.basalt.vmm.agent;

import java.time.Duration;

/**
 * An agent operation did not finish before its deadline. Unless the method says
 * otherwise, the operation's stream was cancelled (a {@code CANCEL} was sent).
 */
public final class AgentTimeoutException extends AgentException {
    private static final long serialVersionUID = 1L;
    private final String operation;
    private final transient Duration timeout;

    public AgentTimeoutException(String operation, Duration timeout) {
        super(null, operation + " timed out after " + timeout.toMillis() + " ms");
        this.operation = operation;
        this.timeout = timeout;
    }

    /** The operation that timed out, e.g. {@code stat /etc/hostname}. */
    public String operation() {
        return operation;
    }

    /** The timeout that expired. */
    public Duration timeout() {
        return timeout;
    }
}
