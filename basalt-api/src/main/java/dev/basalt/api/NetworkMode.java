package dev.basalt.api;

/**
 * How a sandbox reaches the network. Chosen at create time and part of {@link NetworkPolicy}.
 */
public enum NetworkMode {
    /** No network interface at all (only {@code lo}): the default. */
    NONE,
    /** A NIC; every public address is reachable except what the policy's deny list names. */
    OPEN,
    /** A NIC; only the domains and address ranges of the policy's allow list are reachable. */
    ALLOW,
    /**
     * No NIC: an HTTP(S) proxy inside the guest ({@code HTTP_PROXY}/{@code HTTPS_PROXY}) is
     * tunnelled over the agent channel to the host, which applies the allow and deny lists.
     */
    PROXY;

    /** The lowercase name used by the CLI and gRPC ({@code none}, {@code open}, ...). */
    public String cliName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Parses {@code none|open|allow|proxy} (any case), with an error naming the choices. */
    public static NetworkMode parse(String text) {
        for (NetworkMode m : values()) {
            if (m.cliName().equalsIgnoreCase(text == null ? "" : text.strip())) {
                return m;
            }
        }
        throw new BasaltException.InvalidArgument("network mode '" + text + "' is unknown: use none, open, allow or proxy");
    }

    /** True if the guest gets a network interface (and so needs a namespace slot on the host). */
    public boolean hasNic() {
        return this == OPEN || this == ALLOW;
    }
}
