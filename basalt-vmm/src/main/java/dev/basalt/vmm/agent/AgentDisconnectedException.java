package dev.basalt.vmm.agent;

/**
 * The channel to the agent is gone (the peer closed it, a read or write failed, or the
 * client was closed). Every pending and later operation of that client fails with it.
 */
public final class AgentDisconnectedException extends AgentException {
    private static final long serialVersionUID = 1L;

    public AgentDisconnectedException(String message, Throwable cause) {
        super(null, message, cause);
    }
}
