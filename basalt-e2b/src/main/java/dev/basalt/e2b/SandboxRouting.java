package dev.basalt.e2b;

import com.sun.net.httpserver.HttpExchange;
import dev.basalt.api.BasaltException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which sandbox and port a request is for: the {@code E2b-Sandbox-Id} and {@code E2b-Sandbox-Port}
 * headers (what the SDK sends with {@code E2B_SANDBOX_URL}), or a host name
 * {@code <port>-<id>.<domain>} when a domain is configured (wildcard DNS). Null for the control API;
 * {@link BasaltException.InvalidArgument} for a request that names a sandbox in a malformed way.
 */
final class SandboxRouting {
    private static final Pattern HOST = Pattern.compile("([0-9]{1,5})-([a-z0-9]{1,64})\\.(.+?)(?::[0-9]+)?");

    /** A request for a sandbox's port. */
    record Target(String sandboxId, int port) {
    }

    private final String domain;

    SandboxRouting(String domain) {
        this.domain = domain == null ? null : domain.toLowerCase(Locale.ROOT);
    }

    Target target(HttpExchange exchange) {
        String id = exchange.getRequestHeaders().getFirst("E2b-Sandbox-Id");
        String port = exchange.getRequestHeaders().getFirst("E2b-Sandbox-Port");
        if (id != null || port != null) {
            if (id == null || port == null) {
                throw new BasaltException.InvalidArgument("send both E2b-Sandbox-Id and E2b-Sandbox-Port, or neither");
            }
            if (!E2bSandbox.isValidId(id)) {
                throw new BasaltException.InvalidArgument("E2b-Sandbox-Id '" + id + "' is invalid: sandbox ids are 1-64 of [a-z0-9]");
            }
            return new Target(id, port(port));
        }
        String host = exchange.getRequestHeaders().getFirst("Host");
        if (domain != null && host != null) {
            Matcher m = HOST.matcher(host.toLowerCase(Locale.ROOT));
            if (m.matches() && m.group(3).equals(domain)) {
                return new Target(m.group(2), port(m.group(1)));
            }
        }
        return null;
    }

    private static int port(String value) {
        try {
            int port = Integer.parseInt(value.trim());
            if (port >= 1 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new BasaltException.InvalidArgument("E2b-Sandbox-Port '" + value + "' is not a port number (1-65535)");
    }
}
