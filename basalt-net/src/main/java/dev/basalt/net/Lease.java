package dev.basalt.net;

import dev.basalt.api.NetworkPolicy;

/**
 * Who is behind a slot address right now: the DNS server and the proxy look a connection's source
 * up to find the sandbox and its current policy.
 *
 * @param sandboxId the sandbox holding the slot
 * @param policy    its current policy
 */
public record Lease(String sandboxId, NetworkPolicy policy) {
    /** Looks up the lease of a source address (an IPv4 value); null if no sandbox has it. */
    @FunctionalInterface
    public interface Directory {
        Lease bySource(int ip);
    }
}
