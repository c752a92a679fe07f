package dev.basalt.e2b;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import dev.basalt.api.BasaltException;
import dev.basalt.api.PortForward;
import dev.basalt.api.Sandboxes;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Requests for a sandbox port other than envd's ({@code E2b-Sandbox-Port}, or the port of
 * {@code Host: <port>-<id>.<domain>}): proxied as plain HTTP/1.1 with the JDK's HTTP client to the
 * guest port, through a port forward of the sandbox's network ({@link Sandboxes#forwardPort} on a
 * free loopback port). One forward per sandbox and port, made at the first request and found again
 * in {@link Sandboxes#portForwards} by the next ones (so also after a resume or a restart of
 * basaltd); the sandbox's network takes it away with the sandbox. Only for a running sandbox with a
 * network interface; no access token is needed (E2B's default, {@code allowPublicTraffic}).
 *
 * <p>Hop-by-hop headers are not passed on; the guest's server sees {@code Host: 127.0.0.1:<forward
 * port>}, the client's host in {@code X-Forwarded-Host} and its address in {@code X-Forwarded-For}.
 * A guest port nobody listens on, or a server that closes without answering, gets E2B's 502
 * {@code "The sandbox is running but port is not open"}; an {@code Upgrade} (WebSocket) is 501; the
 * guest has {@value #HEADERS_TIMEOUT_MINUTES} minutes to start its answer.
 */
final class PortProxy implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PortProxy.class);
    static final String PORT_NOT_OPEN = "The sandbox is running but port is not open";
    static final long HEADERS_TIMEOUT_MINUTES = 10;
    /** Request headers not passed to the guest: hop by hop, set by the client itself, or the routing of this endpoint. */
    private static final Set<String> REQUEST_DROPPED = Set.of("connection", "keep-alive", "proxy-authorization",
            "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length", "expect",
            "e2b-sandbox-id", "e2b-sandbox-port");
    /** Response headers not passed to the client: hop by hop, or set by this server itself. */
    private static final Set<String> RESPONSE_DROPPED = Set.of("connection", "keep-alive", "proxy-authenticate",
            "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "content-length", "date");

    private final Sandboxes port;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final HttpClient client;
    /** The forwards this proxy made ({@code id:port}), as opposed to the user's own. */
    private final Set<String> made = java.util.concurrent.ConcurrentHashMap.newKeySet();

    PortProxy(Sandboxes port) {
        this.port = port;
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)          // no h2c upgrade attempt on plain HTTP
                .followRedirects(HttpClient.Redirect.NEVER)     // the client sees the guest's redirects
                .connectTimeout(Duration.ofSeconds(10))
                .executor(executor)
                .build();
    }

    /** Serves one request for {@code guestPort} of running sandbox {@code sandboxId}. */
    void serve(HttpExchange exchange, String sandboxId, int guestPort) throws IOException {
        if (exchange.getRequestHeaders().containsKey("Upgrade")) {
            HttpJson.error(exchange, 501, "Basalt proxies plain HTTP requests to a sandbox's ports, not upgrades (WebSocket) yet");
            return;
        }
        PortForward forward;
        try {
            forward = forward(sandboxId, guestPort);
        } catch (BasaltException.WrongState e) {
            HttpJson.sandboxError(exchange, sandboxId, guestPort, "The sandbox has no network interface, so its port " + guestPort
                    + " cannot be reached: create it with internet access (E2B's default) or network rules, not allowInternetAccess: false");
            return;
        } catch (BasaltException e) {
            HttpJson.sandboxError(exchange, sandboxId, guestPort, "The sandbox's port " + guestPort + " cannot be reached: " + e.getMessage());
            return;
        }
        HttpRequest request;
        try {
            request = request(exchange, forward);
        } catch (IllegalArgumentException e) {
            HttpJson.error(exchange, 400, "cannot pass this request on to the sandbox: " + e.getMessage());
            return;
        }
        HttpResponse<InputStream> response;
        try {
            response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            log.debug("sandbox {} port {}: {}", sandboxId, guestPort, e.toString());
            forgetMade(sandboxId, guestPort);
            HttpJson.sandboxError(exchange, sandboxId, guestPort, PORT_NOT_OPEN);
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for sandbox " + sandboxId + " port " + guestPort, e);
        }
        try (InputStream body = response.body()) {
            answer(exchange, response, body);
        }
    }

    /** The sandbox's forward of {@code guestPort}, made if there is none. */
    private PortForward forward(String sandboxId, int guestPort) {
        PortForward existing = existing(sandboxId, guestPort);
        if (existing != null) {
            return existing;
        }
        try {
            PortForward made = port.forwardPort(sandboxId, guestPort, 0);
            this.made.add(sandboxId + ":" + guestPort);
            return made;
        } catch (BasaltException.AlreadyExists e) {
            existing = existing(sandboxId, guestPort);     // a concurrent request made it meanwhile
            if (existing == null) {
                throw e;
            }
            return existing;
        }
    }

    /**
     * Removes a forward this proxy made for a port the guest refused, so that requests for closed
     * ports (a scan) leave no listener behind; forwards the user made stay.
     */
    private void forgetMade(String sandboxId, int guestPort) {
        if (made.remove(sandboxId + ":" + guestPort)) {
            try {
                port.unforwardPort(sandboxId, guestPort);
            } catch (BasaltException e) {
                log.debug("sandbox {} port {}: {}", sandboxId, guestPort, e.getMessage());
            }
        }
    }

    private PortForward existing(String sandboxId, int guestPort) {
        for (PortForward f : port.portForwards(sandboxId)) {
            if (f.guestPort() == guestPort) {
                return f;
            }
        }
        return null;
    }

    private static HttpRequest request(HttpExchange exchange, PortForward forward) {
        URI in = exchange.getRequestURI();
        URI target = URI.create("http://" + forward.hostAddress() + ":" + forward.hostPort() + in.getRawPath()
                + (in.getRawQuery() == null ? "" : "?" + in.getRawQuery()));
        HttpRequest.Builder b = HttpRequest.newBuilder(target).timeout(Duration.ofMinutes(HEADERS_TIMEOUT_MINUTES));
        Headers headers = exchange.getRequestHeaders();
        for (Map.Entry<String, List<String>> h : headers.entrySet()) {
            if (REQUEST_DROPPED.contains(h.getKey().toLowerCase(Locale.ROOT))) {
                continue;
            }
            for (String value : h.getValue()) {
                b.header(h.getKey(), value);
            }
        }
        String host = headers.getFirst("Host");
        if (host != null && !headers.containsKey("X-Forwarded-Host")) {
            b.header("X-Forwarded-Host", host);
        }
        String client = exchange.getRemoteAddress().getAddress().getHostAddress();
        if (!headers.containsKey("X-Forwarded-For")) {
            b.header("X-Forwarded-For", client);
        }
        return b.method(exchange.getRequestMethod(), body(exchange)).build();
    }

    /** The request's body: of its Content-Length, chunked as it came, or none. */
    private static HttpRequest.BodyPublisher body(HttpExchange exchange) {
        String length = exchange.getRequestHeaders().getFirst("Content-Length");
        HttpRequest.BodyPublisher stream = HttpRequest.BodyPublishers.ofInputStream(exchange::getRequestBody);
        if (length != null) {
            long n;
            try {
                n = Long.parseLong(length.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("Content-Length '" + length + "' is not a number");
            }
            return n <= 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.fromPublisher(stream, n);
        }
        return exchange.getRequestHeaders().containsKey("Transfer-Encoding") ? stream : HttpRequest.BodyPublishers.noBody();
    }

    private static void answer(HttpExchange exchange, HttpResponse<InputStream> response, InputStream body) throws IOException {
        Headers out = exchange.getResponseHeaders();
        response.headers().map().forEach((name, values) -> {
            if (!RESPONSE_DROPPED.contains(name.toLowerCase(Locale.ROOT))) {
                values.forEach(v -> out.add(name, v));
            }
        });
        int status = response.statusCode();
        long length = response.headers().firstValueAsLong("Content-Length").orElse(-1);
        boolean noBody = exchange.getRequestMethod().equals("HEAD") || status == 204 || status == 304 || length == 0;
        // the JDK's server: -1 is no body, 0 is chunked, n is a body of n bytes
        exchange.sendResponseHeaders(status, noBody ? -1 : Math.max(length, 0));
        if (noBody) {
            return;
        }
        try (OutputStream os = exchange.getResponseBody()) {
            body.transferTo(os);
        }
    }

    @Override
    public void close() {
        client.close();
        executor.shutdownNow();
    }
}
