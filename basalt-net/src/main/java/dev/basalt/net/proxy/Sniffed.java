package dev.basalt.net.proxy;

/**
 * What the first bytes of a proxied connection say about where it goes: the result of
 * {@link ClientHello#serverName} and {@link HttpHead#host}.
 */
public sealed interface Sniffed {
    /** The destination host name or IPv4 literal, lowercase, validated. */
    record Host(String name) implements Sniffed {}

    /** A complete, well-formed opening that names no host (a ClientHello without SNI). */
    record NoHost() implements Sniffed {}

    /** More bytes are needed. */
    record Incomplete() implements Sniffed {}

    /** Not a well-formed opening; {@code reason} says what is wrong. */
    record Malformed(String reason) implements Sniffed {}

    Sniffed INCOMPLETE = new Incomplete();
    Sniffed NO_HOST = new NoHost();
}
