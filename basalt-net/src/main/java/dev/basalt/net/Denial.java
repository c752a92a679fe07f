package dev.basalt.net;

/**
 * One refused attempt of a sandbox, reported to a {@link DenialListener} and logged with the
 * sandbox id. Packets refused by nftables are only counted ({@link NetStats#deniedPackets}).
 *
 * @param sandboxId the sandbox that tried
 * @param kind      what was refused
 * @param target    the name or address ({@code evil.example}, {@code 10.1.2.3:443})
 * @param reason    why ("not in the allow list", ...)
 */
public record Denial(String sandboxId, Kind kind, String target, String reason) {
    public enum Kind {
        /** A DNS question (or an answer's addresses) the policy refuses. */
        DNS,
        /** A TCP connection the proxy refused (by TLS SNI, HTTP Host or resolved address). */
        CONNECTION
    }
}
