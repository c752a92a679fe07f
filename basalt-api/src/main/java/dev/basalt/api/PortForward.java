package dev.basalt.api;

import java.util.Objects;

/**
 * A host address that forwards TCP connections to a port of a sandbox's guest.
 *
 * @param sandboxId   the sandbox
 * @param guestPort   the port in the guest, 1..65535
 * @param hostAddress the host's listening address (e.g. {@code 127.0.0.1})
 * @param hostPort    the host's listening port
 */
public record PortForward(String sandboxId, int guestPort, String hostAddress, int hostPort) {
    public PortForward {
        Objects.requireNonNull(sandboxId, "sandboxId");
        Objects.requireNonNull(hostAddress, "hostAddress");
        checkPort("guest port", guestPort);
        checkPort("host port", hostPort);
    }

    /** Throws {@link BasaltException.InvalidArgument} unless {@code port} is 1..65535. */
    public static void checkPort(String what, int port) {
        if (port < 1 || port > 65535) {
            throw new BasaltException.InvalidArgument(what + " must be between 1 and 65535, got " + port);
        }
    }
}
