package dev.basalt.net.proxy;

import dev.basalt.net.EgressCheck;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Finds the destination host of a plain HTTP/1.x request from its head: the authority of an
 * absolute-form target ({@code GET http://host/ HTTP/1.1}) or else the one {@code Host} header.
 * The input is hostile: a head must end within {@value #MAX_BYTES} bytes, and a request line or
 * header that is not well-formed, several Host headers, folded headers or an IPv6 literal are
 * {@link Sniffed.Malformed}. Stateless and thread-safe.
 */
public final class HttpHead {
    public static final int MAX_BYTES = 16 * 1024;

    private HttpHead() {}

    /** Parses {@code buf[0..len)}. */
    public static Sniffed host(byte[] buf, int len) {
        int end = headEnd(buf, len);
        if (end < 0) {
            return len >= MAX_BYTES ? new Sniffed.Malformed("request head larger than " + MAX_BYTES + " bytes") : Sniffed.INCOMPLETE;
        }
        for (int i = 0; i < end; i++) {
            int c = buf[i] & 255;
            if (c >= 127 || (c < 32 && c != '\r' && c != '\n' && c != '\t')) {
                return new Sniffed.Malformed("the request head contains the byte " + c);
            }
        }
        String head = new String(buf, 0, end, StandardCharsets.US_ASCII);
        String[] lines = head.split("\r?\n", -1);
        String[] request = lines[0].split(" ", -1);
        if (request.length != 3 || !request[0].matches("[A-Z]{1,20}") || !request[2].matches("HTTP/1\\.[01]") || request[1].isEmpty()) {
            if (lines[0].startsWith("PRI * HTTP/2")) {
                return new Sniffed.Malformed("HTTP/2 without TLS is not supported: use HTTPS or HTTP/1.1");
            }
            return new Sniffed.Malformed("not an HTTP/1.x request line: '" + abbreviate(lines[0]) + "'");
        }
        if (request[0].equals("CONNECT")) {
            return new Sniffed.Malformed("CONNECT is not a request for this server");
        }
        String authority = null;
        String target = request[1];
        if (target.regionMatches(true, 0, "http://", 0, 7)) {
            int slash = target.indexOf('/', 7);
            authority = target.substring(7, slash < 0 ? target.length() : slash);
        }
        String hostHeader = null;
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i];
            if (line.isEmpty()) {
                continue;
            }
            if (line.charAt(0) == ' ' || line.charAt(0) == '\t') {
                return new Sniffed.Malformed("folded header lines are not allowed");
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                return new Sniffed.Malformed("a header line without a name: '" + abbreviate(line) + "'");
            }
            String name = line.substring(0, colon);
            if (!name.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
                return new Sniffed.Malformed("invalid header name '" + abbreviate(name) + "'");
            }
            if (name.toLowerCase(Locale.ROOT).equals("host")) {
                if (hostHeader != null) {
                    return new Sniffed.Malformed("more than one Host header");
                }
                hostHeader = line.substring(colon + 1).strip();
            }
        }
        if (authority == null) {
            authority = hostHeader;
        }
        if (authority == null || authority.isEmpty()) {
            return new Sniffed.Malformed("no Host header");
        }
        if (authority.contains("@")) {
            return new Sniffed.Malformed("user information in the request target");
        }
        if (authority.startsWith("[")) {
            return new Sniffed.Malformed("IPv6 destinations are not supported");
        }
        int colon = authority.lastIndexOf(':');
        String host = authority;
        if (colon >= 0) {
            String port = authority.substring(colon + 1);
            if (!port.matches("[0-9]{1,5}")) {
                return new Sniffed.Malformed("invalid port in '" + abbreviate(authority) + "'");
            }
            host = authority.substring(0, colon);
        }
        String normalized = EgressCheck.normalize(host);
        if (normalized == null) {
            return new Sniffed.Malformed("'" + abbreviate(host) + "' is not a valid host name");
        }
        return new Sniffed.Host(normalized);
    }

    /** Index just past the blank line ending the head, or -1. */
    private static int headEnd(byte[] b, int len) {
        int max = Math.min(len, MAX_BYTES);
        for (int i = 0; i < max; i++) {
            if (b[i] == '\n') {
                if (i + 1 < max && b[i + 1] == '\n') {
                    return i + 2;
                }
                if (i + 2 < max && b[i + 1] == '\r' && b[i + 2] == '\n') {
                    return i + 3;
                }
            }
        }
        return -1;
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }
}
