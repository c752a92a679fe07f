package dev.basalt.net;

/**
 * The outcome of an egress check: allowed, or denied with the reason a user can act on.
 *
 * @param allowed whether the connection or answer may go ahead
 * @param reason  why it was denied ("not in the allow list", "private range 10.0.0.0/8", ...); empty when allowed
 */
public record Decision(boolean allowed, String reason) {
    public static final Decision ALLOW = new Decision(true, "");

    public static Decision deny(String reason) {
        return new Decision(false, reason);
    }
}
