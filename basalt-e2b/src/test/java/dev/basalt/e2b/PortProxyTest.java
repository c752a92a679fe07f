package dev.basalt.e2b;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.basalt.api.BasaltException;
import dev.basalt.api.PortForward;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.SandboxState;
import dev.basalt.api.Sandboxes;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Other ports of a sandbox through the E2B endpoint, over a real {@link E2bServer}, real HTTP
 * servers and a real client, with the {@link Sandboxes} port stubbed (its forwards point at servers
 * of this test): what passes through, and every error case. The real path — a guest's server
 * behind a real port forward, through E2B's SDK — is the node suite's network.test.mjs.
 */
class PortProxyTest {
    private static final String WEB = "web0", NETLESS = "netless0", PAUSED = "paused0";
    private static HttpServer guest;
    private static ServerSocket hangUp;
    private static int closedPort;
    private static E2bServer e2b;
    private static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final Map<Integer, AtomicInteger> forwardsMade = new ConcurrentHashMap<>();
    private static final Map<Integer, PortForward> forwards = new ConcurrentHashMap<>();

    @BeforeAll
    static void start() throws IOException {
        guest = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        guest.createContext("/", ex -> {
            byte[] in = ex.getRequestBody().readAllBytes();
            String seen = ex.getRequestMethod() + " " + ex.getRequestURI() + " body=" + new String(in, StandardCharsets.UTF_8)
                    + " xfh=" + ex.getRequestHeaders().getFirst("X-Forwarded-Host")
                    + " routing=" + ex.getRequestHeaders().getFirst("E2b-Sandbox-Id")
                    + " te=" + ex.getRequestHeaders().getFirst("Transfer-Encoding");
            byte[] out = seen.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("X-From-Guest", "yes");
            int status = ex.getRequestURI().getPath().equals("/created") ? 201 : 200;
            ex.sendResponseHeaders(status, ex.getRequestMethod().equals("HEAD") ? -1 : out.length);
            try (OutputStream os = ex.getResponseBody()) {
                os.write(out);
            }
        });
        guest.start();
        hangUp = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            while (!hangUp.isClosed()) {
                try (Socket s = hangUp.accept()) {
                    s.getInputStream().read();    // what the real forward does when the guest refuses: close
                } catch (IOException e) {
                    return;
                }
            }
        });
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        e2b = E2bServer.start(stub(), E2bOptions.loopback(0, ApiKeys.of(List.of("0123456789abcdef-key"))));
    }

    @AfterAll
    static void stop() throws IOException {
        e2b.close();
        guest.stop(0);
        hangUp.close();
        client.close();
    }

    /** The port: WEB runs with a network (guest port 8000 a server, 3000 closed, 4000 hangs up), NETLESS has none, PAUSED is paused. */
    private static Sandboxes stub() {
        return (Sandboxes) Proxy.newProxyInstance(Sandboxes.class.getClassLoader(), new Class<?>[] {Sandboxes.class}, (p, m, args) -> {
            switch (m.getName()) {
                case "subscribe":
                    return (AutoCloseable) () -> { };
                case "inspect": {
                    String id = (String) args[0];
                    if (!List.of(WEB, NETLESS, PAUSED).contains(id)) {
                        throw new BasaltException.NotFound("no sandbox " + id);
                    }
                    return new SandboxInfo(id, id.equals(PAUSED) ? SandboxState.PAUSED : SandboxState.READY, SandboxSpec.defaults(),
                            "tcg", 1, Instant.now(), Optional.empty(), 0, Optional.empty(), "boot", Optional.empty());
                }
                case "portForwards":
                    return args[0].equals(WEB) ? List.copyOf(forwards.values()) : List.of();
                case "forwardPort": {
                    if (!args[0].equals(WEB)) {
                        throw new BasaltException.WrongState("sandbox " + args[0] + " has no network");
                    }
                    int guestPort = (Integer) args[1];
                    int hostPort = switch (guestPort) {
                        case 8000 -> guest.getAddress().getPort();
                        case 4000 -> hangUp.getLocalPort();
                        default -> closedPort;
                    };
                    forwardsMade.computeIfAbsent(guestPort, k -> new AtomicInteger()).incrementAndGet();
                    PortForward f = new PortForward(WEB, guestPort, "127.0.0.1", hostPort);
                    forwards.put(guestPort, f);
                    return f;
                }
                case "unforwardPort":
                    forwards.remove((Integer) args[1]);
                    return null;
                case "toString":
                    return "stub";
                default:
                    throw new UnsupportedOperationException(m.getName());
            }
        });
    }

    private static HttpRequest.Builder to(String id, int port, String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + e2b.port() + path)).timeout(Duration.ofSeconds(20))
                .header("E2b-Sandbox-Id", id).header("E2b-Sandbox-Port", String.valueOf(port));
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode json(HttpResponse<String> r) throws IOException {
        return HttpJson.JSON.readTree(r.body());
    }

    @Test
    void requestsReachTheGuestPortWithTheirMethodPathBodyAndHeaders() throws Exception {
        HttpResponse<String> get = send(to(WEB, 8000, "/a/b?x=1&y=%20"));
        assertThat(get.statusCode()).isEqualTo(200);
        assertThat(get.body()).isEqualTo("GET /a/b?x=1&y=%20 body= xfh=127.0.0.1:" + e2b.port() + " routing=null te=null");
        assertThat(get.headers().firstValue("X-From-Guest")).hasValue("yes");

        HttpResponse<String> post = send(to(WEB, 8000, "/created").POST(HttpRequest.BodyPublishers.ofString("payload")));
        assertThat(post.statusCode()).isEqualTo(201);
        assertThat(post.body()).startsWith("POST /created body=payload ");

        // a body of unknown length arrives chunked, and reaches the guest whole
        HttpResponse<String> chunked = send(to(WEB, 8000, "/up").PUT(HttpRequest.BodyPublishers.ofInputStream(
                () -> new java.io.ByteArrayInputStream("streamed".getBytes(StandardCharsets.UTF_8)))));
        assertThat(chunked.body()).startsWith("PUT /up body=streamed ").endsWith("te=chunked");

        HttpResponse<String> head = send(to(WEB, 8000, "/").method("HEAD", HttpRequest.BodyPublishers.noBody()));
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(forwardsMade.get(8000).get()).as("one forward per sandbox and port, reused").isEqualTo(1);
    }

    @Test
    void aPortNobodyListensOnGetsE2bsAnswer() throws Exception {
        for (int port : new int[] {3000, 4000}) {
            HttpResponse<String> r = send(to(WEB, port, "/"));
            assertThat(r.statusCode()).isEqualTo(502);
            JsonNode body = json(r);
            assertThat(body.get("message").asText()).isEqualTo("The sandbox is running but port is not open");
            assertThat(body.get("sandboxId").asText()).isEqualTo(WEB);
            assertThat(body.get("port").asInt()).isEqualTo(port);
            assertThat(body.get("code").asInt()).isEqualTo(502);
        }
        assertThat(forwards).as("a forward made for a refused port is removed again (a port scan leaves no listeners)")
                .doesNotContainKeys(3000, 4000);
        send(to(WEB, 3000, "/"));
        assertThat(forwardsMade.get(3000).get()).isEqualTo(2);
    }

    @Test
    void sandboxesWithoutANetworkPausedOrGoneAreRefusedClearly() throws Exception {
        HttpResponse<String> netless = send(to(NETLESS, 8000, "/"));
        assertThat(netless.statusCode()).isEqualTo(502);
        assertThat(json(netless).get("message").asText()).contains("has no network interface").contains("allowInternetAccess");
        assertThat(json(netless).get("port").asInt()).isEqualTo(8000);

        HttpResponse<String> paused = send(to(PAUSED, 8000, "/"));
        assertThat(paused.statusCode()).isEqualTo(502);
        assertThat(json(paused).get("message").asText()).contains("paused");

        HttpResponse<String> gone = send(to("nosuch0", 8000, "/"));
        assertThat(gone.statusCode()).isEqualTo(502);
        assertThat(json(gone).get("message").asText()).isEqualTo("The sandbox was not found");

        HttpResponse<String> badPort = send(to(WEB, 70000, "/"));
        assertThat(badPort.statusCode()).isEqualTo(400);
    }

    @Test
    void upgradesAreRefused() throws Exception {
        // the JDK's client may not send Upgrade itself: ask with a raw request line
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), e2b.port())) {
            s.getOutputStream().write(("GET / HTTP/1.1\r\nHost: x\r\nE2b-Sandbox-Id: " + WEB + "\r\nE2b-Sandbox-Port: 8000\r\n"
                    + "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String answer = new String(s.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
            assertThat(answer).isEqualTo("HTTP/1.1 501");
        }
    }
}
