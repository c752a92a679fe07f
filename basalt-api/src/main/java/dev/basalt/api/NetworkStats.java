package dev.basalt.api;

/**
 * A networked sandbox's traffic since it got its network.
 *
 * @param bytesIn           IP bytes sent to the sandbox
 * @param bytesOut          IP bytes the sandbox sent (proxied and DNS traffic included)
 * @param deniedPackets     packets the firewall refused (a TCP reset or an ICMP error went back)
 * @param deniedDns         DNS questions refused or answers emptied by the policy
 * @param deniedConnections TCP connections the proxy refused (by TLS SNI, HTTP Host or resolved address)
 */
public record NetworkStats(long bytesIn, long bytesOut, long deniedPackets, long deniedDns, long deniedConnections) {
    public static final NetworkStats ZERO = new NetworkStats(0, 0, 0, 0, 0);
}
