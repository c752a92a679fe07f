package dev.basalt.vmm.agent;

import dev.basalt.protocol.Message;

/** Receives the frames of one open stream. Both methods run on the reader thread and must never block. */
interface StreamHandler {

    /** Handles a frame; returns true if it ended the stream (its id becomes free). */
    boolean onMessage(Message message);

    /** The stream failed locally (disconnect, close, malformed frame from the agent). */
    void onFailure(AgentException failure);
}
