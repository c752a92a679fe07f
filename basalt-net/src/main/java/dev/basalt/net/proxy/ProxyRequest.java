package dev.basalt.net.proxy;

import dev.basalt.net.EgressCheck;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The head of a request to an HTTP proxy, as a guest program sends it through its
 * {@code HTTP_PROXY}/{@code HTTPS_PROXY}: {@code CONNECT host:port} (a tunnel, for HTTPS) or a
 * request with an absolute {@code http://} target. Hostile input: the head must end within
 * {@value HttpHead#MAX_BYTES} bytes, and anything else is {@link Malformed}. Stateless.
 */
public sealed interface ProxyRequest {
    /** {@code CONNECT host:port}: a tunnel; the client's bytes after the head go to the server as they are. */
    record Connect(String host, int port, int headLength) implements ProxyRequest {}

    /**
     * A plain HTTP request for {@code host:port}; {@code head} is the request rewritten for the
     * origin server (origin-form target, hop-by-hop headers dropped, {@code Connection: close}).
     */
    record Forward(String host, int port, byte[] head, int headLength) implements ProxyRequest {}

    /** More bytes are needed. */
    record Incomplete() implements ProxyRequest {}

    /** Not a request this proxy serves; {@code reason} says why. */
    record Malformed(String reason) implements ProxyRequest {}

    /** Parses {@code buf[0..len)}. */
    static ProxyRequest parse(byte[] buf, int len) {
        int end = -1;
        for (int i = 3; i < Math.min(len, HttpHead.MAX_BYTES); i++) {
            if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
                end = i + 1;
                break;
            }
        }
        if (end < 0) {
            return len >= HttpHead.MAX_BYTES ? new Malformed("request head larger than " + HttpHead.MAX_BYTES + " bytes") : new Incomplete();
        }
        for (int i = 0; i < end; i++) {
            int c = buf[i] & 255;
            if (c >= 127 || (c < 32 && c != '\r' && c != '\n' && c != '\t')) {
                return new Malformed("the request head contains the byte " + c);
            }
        }
        String[] lines = new String(buf, 0, end - 4, StandardCharsets.US_ASCII).split("\r\n", -1);
        String[] request = lines[0].split(" ", -1);
        if (request.length != 3 || !request[0].matches("[A-Z]{1,20}") || !request[2].matches("HTTP/1\\.[01]")) {
            return new Malformed("not an HTTP/1.x request line");
        }
        if (request[0].equals("CONNECT")) {
            int colon = request[1].lastIndexOf(':');
            if (colon <= 0 || !request[1].substring(colon + 1).matches("[0-9]{1,5}")) {
                return new Malformed("CONNECT needs host:port");
            }
            String host = EgressCheck.normalize(request[1].substring(0, colon));
            int port = Integer.parseInt(request[1].substring(colon + 1));
            if (host == null || port < 1 || port > 65535) {
                return new Malformed("'" + request[1] + "' is not a valid host and port");
            }
            return new Connect(host, port, end);
        }
        String target = request[1];
        if (!target.regionMatches(true, 0, "http://", 0, 7)) {
            return new Malformed("a proxied request needs an absolute http:// target (HTTPS goes through CONNECT)");
        }
        int slash = target.indexOf('/', 7);
        String authority = target.substring(7, slash < 0 ? target.length() : slash);
        String path = slash < 0 ? "/" : target.substring(slash);
        int colon = authority.lastIndexOf(':');
        int port = 80;
        String hostPart = authority;
        if (colon >= 0) {
            if (!authority.substring(colon + 1).matches("[0-9]{1,5}")) {
                return new Malformed("invalid port in '" + authority + "'");
            }
            port = Integer.parseInt(authority.substring(colon + 1));
            hostPart = authority.substring(0, colon);
        }
        String host = EgressCheck.normalize(hostPart);
        if (host == null || port < 1 || port > 65535 || authority.contains("@")) {
            return new Malformed("'" + authority + "' is not a valid host and port");
        }
        StringBuilder head = new StringBuilder(request[0]).append(' ').append(path).append(' ').append(request[2]).append("\r\n");
        boolean hasHost = false;
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i];
            int c = line.indexOf(':');
            if (c <= 0 || line.charAt(0) == ' ' || line.charAt(0) == '\t') {
                return new Malformed("invalid header line");
            }
            String name = line.substring(0, c).toLowerCase(Locale.ROOT);
            switch (name) {
                case "proxy-connection", "connection", "keep-alive", "proxy-authorization" -> { }
                case "host" -> {
                    if (hasHost) {
                        return new Malformed("more than one Host header");
                    }
                    hasHost = true;
                    head.append("Host: ").append(authority).append("\r\n");
                }
                default -> head.append(line).append("\r\n");
            }
        }
        if (!hasHost) {
            head.append("Host: ").append(authority).append("\r\n");
        }
        head.append("Connection: close\r\n\r\n");
        return new Forward(host, port, head.toString().getBytes(StandardCharsets.US_ASCII), end);
    }
}
