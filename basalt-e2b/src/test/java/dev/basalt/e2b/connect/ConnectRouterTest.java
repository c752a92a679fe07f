package dev.basalt.e2b.connect;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.basalt.api.BasaltException;
import dev.basalt.e2b.HttpJson;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Connect layer on its own, over a real JDK HTTP server and client: what a client sees for
 * good calls and for every error case (unknown procedure, wrong method or content type, bad
 * protocol headers, malformed JSON and envelopes, handler failures, deadlines, keepalives, a client
 * that goes away).
 */
class ConnectRouterTest {
    record Ping(String text, int n) {
    }

    record Pong(String text) {
    }

    private static HttpServer server;
    private static HttpClient client;
    private static URI base;
    private static final CompletableFuture<Integer> disconnectedAfter = new CompletableFuture<>();
    private static final CompletableFuture<Boolean> deadlineSeenByHandler = new CompletableFuture<>();

    @BeforeAll
    static void start() throws IOException {
        ConnectRouter<String> router = new ConnectRouter<String>(HttpJson.JSON)
                .unary("test.Svc", "Echo", Ping.class, (call, q) -> new Pong(call.context() + ":" + q.text()))
                .unary("test.Svc", "Fail", Ping.class, (call, q) -> {
                    throw new BasaltException.NotFound("no " + q.text());
                })
                .unary("test.Svc", "Crash", Ping.class, (call, q) -> {
                    throw new IllegalStateException("bug");
                })
                .serverStream("test.Svc", "Count", Ping.class, new Pong("keepalive"), (call, q, sink) -> {
                    for (int i = 0; i < q.n(); i++) {
                        sink.send(new Pong(q.text() + i));
                    }
                    if (q.text().equals("fail")) {
                        throw new BasaltException.ResourceExhausted("too many");
                    }
                })
                .serverStream("test.Svc", "Wait", Ping.class, new Pong("keepalive"), (call, q, sink) -> {
                    sink.closed().join();
                    deadlineSeenByHandler.complete(true);
                })
                .serverStream("test.Svc", "Flood", Ping.class, null, (call, q, sink) -> {
                    int sent = 0;
                    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                    while (System.nanoTime() < until && sink.send(new Pong("x".repeat(1000)))) {
                        sent++;
                    }
                    disconnectedAfter.complete(sent);
                });
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", exchange -> router.serve(exchange, "ctx"));
        server.start();
        base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    }

    @AfterAll
    static void stop() {
        server.stop(0);
        client.close();
    }

    private static HttpResponse<byte[]> post(String path, String contentType, byte[] body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .timeout(Duration.ofSeconds(30));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static HttpResponse<byte[]> unary(String path, String json, String... headers) throws Exception {
        return post(path, "application/json", json.getBytes(StandardCharsets.UTF_8), headers);
    }

    private static byte[] envelope(int flags, String json) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new Envelope(flags, json.getBytes(StandardCharsets.UTF_8)).write(out);
        return out.toByteArray();
    }

    private static HttpResponse<byte[]> stream(String path, byte[] body, String... headers) throws Exception {
        return post(path, "application/connect+json", body, headers);
    }

    /** The envelopes of a streaming response body. */
    private static List<Envelope> envelopes(byte[] body) throws IOException {
        List<Envelope> out = new ArrayList<>();
        InputStream in = new ByteArrayInputStream(body);
        for (Envelope e; (e = Envelope.read(in, 1 << 20)) != null; ) {
            out.add(e);
        }
        return out;
    }

    private static JsonNode json(byte[] bytes) throws IOException {
        return HttpJson.JSON.readTree(bytes);
    }

    private static JsonNode endError(HttpResponse<byte[]> response) throws IOException {
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/connect+json");
        List<Envelope> all = envelopes(response.body());
        Envelope end = all.getLast();
        assertThat(end.flags()).isEqualTo(Envelope.END_STREAM);
        return json(end.data()).path("error");
    }

    @Test
    void unaryCallAnswersJson() throws Exception {
        HttpResponse<byte[]> r = unary("/test.Svc/Echo", "{\"text\": \"hi\", \"unknownField\": 1}", "Connect-Protocol-Version", "1");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
        assertThat(json(r.body()).path("text").asText()).isEqualTo("ctx:hi");
        assertThat(json(unary("/test.Svc/Echo", "").body()).path("text").asText()).isEqualTo("ctx:null");
    }

    @Test
    void unaryErrorsCarryCodeAndStatus() throws Exception {
        HttpResponse<byte[]> r = unary("/test.Svc/Fail", "{\"text\": \"thing\"}");
        assertThat(r.statusCode()).isEqualTo(404);
        assertThat(json(r.body()).path("code").asText()).isEqualTo("not_found");
        assertThat(json(r.body()).path("message").asText()).isEqualTo("no thing");

        r = unary("/test.Svc/Crash", "{}");
        assertThat(r.statusCode()).isEqualTo(500);
        assertThat(json(r.body()).path("code").asText()).isEqualTo("internal");

        r = unary("/test.Svc/Echo", "{\"text\": ");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(json(r.body()).path("code").asText()).isEqualTo("invalid_argument");
        assertThat(json(r.body()).path("message").asText()).contains("malformed JSON");

        r = unary("/test.Svc/Echo", "null");
        assertThat(json(r.body()).path("code").asText()).isEqualTo("invalid_argument");
        r = unary("/test.Svc/Echo", "{\"n\": \"not a number\"}");
        assertThat(json(r.body()).path("code").asText()).isEqualTo("invalid_argument");
    }

    @Test
    void unknownProcedureIsUnimplemented() throws Exception {
        HttpResponse<byte[]> r = unary("/test.Svc/Nope", "{}");
        assertThat(r.statusCode()).isEqualTo(501);
        assertThat(json(r.body()).path("code").asText()).isEqualTo("unimplemented");
        assertThat(endError(stream("/other.Svc/Method", envelope(0, "{}"))).path("code").asText()).isEqualTo("unimplemented");
    }

    @Test
    void wrongMethodContentTypeOrProtocolHeaders() throws Exception {
        HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(base.resolve("/test.Svc/Echo")).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(405);
        assertThat(r.headers().firstValue("Allow")).hasValue("POST");

        assertThat(post("/test.Svc/Echo", "text/plain", "{}".getBytes(), new String[0]).statusCode()).isEqualTo(415);
        assertThat(post("/test.Svc/Echo", "application/proto", new byte[0], new String[0]).statusCode()).isEqualTo(415);
        assertThat(stream("/test.Svc/Echo", envelope(0, "{}")).statusCode()).isEqualTo(415);
        assertThat(unary("/test.Svc/Count", "{}").statusCode()).isEqualTo(415);

        r = unary("/test.Svc/Echo", "{}", "Connect-Protocol-Version", "2");
        assertThat(r.statusCode()).isEqualTo(400);
        r = unary("/test.Svc/Echo", "{}", "Connect-Timeout-Ms", "12345678901");
        assertThat(json(r.body()).path("message").asText()).contains("Connect-Timeout-Ms");
        r = unary("/test.Svc/Echo", "{}", "Connect-Timeout-Ms", "-5");
        assertThat(r.statusCode()).isEqualTo(400);
        r = unary("/test.Svc/Echo", "{}", "Content-Encoding", "br");
        assertThat(json(r.body()).path("code").asText()).isEqualTo("invalid_argument");
    }

    @Test
    void streamSendsEnvelopesThenAnEmptyEnd() throws Exception {
        HttpResponse<byte[]> r = stream("/test.Svc/Count", envelope(0, "{\"text\": \"m\", \"n\": 3}"));
        List<Envelope> all = envelopes(r.body());
        assertThat(all).hasSize(4);
        for (int i = 0; i < 3; i++) {
            assertThat(all.get(i).flags()).isZero();
            assertThat(json(all.get(i).data()).path("text").asText()).isEqualTo("m" + i);
        }
        assertThat(all.get(3).flags()).isEqualTo(Envelope.END_STREAM);
        assertThat(json(all.get(3).data()).size()).isZero();
    }

    @Test
    void streamErrorsEndTheStream() throws Exception {
        HttpResponse<byte[]> r = stream("/test.Svc/Count", envelope(0, "{\"text\": \"fail\", \"n\": 2}"));
        List<Envelope> all = envelopes(r.body());
        assertThat(all).hasSize(3);
        assertThat(endError(r).path("code").asText()).isEqualTo("resource_exhausted");
        assertThat(endError(r).path("message").asText()).isEqualTo("too many");
    }

    @Test
    void malformedEnvelopesAreInvalidArgument() throws Exception {
        assertThat(endError(stream("/test.Svc/Count", new byte[] {0, 0, 0})).path("message").asText()).contains("ends inside");
        assertThat(endError(stream("/test.Svc/Count", new byte[0])).path("message").asText()).contains("no message");
        byte[] huge = {0, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff};
        assertThat(endError(stream("/test.Svc/Count", huge)).path("message").asText()).contains("larger than the limit");
        byte[] two = new byte[envelope(0, "{}").length * 2];
        System.arraycopy(envelope(0, "{}"), 0, two, 0, two.length / 2);
        System.arraycopy(envelope(0, "{}"), 0, two, two.length / 2, two.length / 2);
        assertThat(endError(stream("/test.Svc/Count", two)).path("message").asText()).contains("more than one");
        assertThat(endError(stream("/test.Svc/Count", envelope(1, "{}"))).path("message").asText()).contains("compressed");
        assertThat(endError(stream("/test.Svc/Count", envelope(0x80, "{}"))).path("message").asText()).contains("unknown flags");
        assertThat(endError(stream("/test.Svc/Count", envelope(0, "[1,2"))).path("code").asText()).isEqualTo("invalid_argument");
    }

    @Test
    void deadlineEndsTheStreamAndTellsTheHandler() throws Exception {
        long start = System.nanoTime();
        HttpResponse<byte[]> r = stream("/test.Svc/Wait", envelope(0, "{}"), "Connect-Timeout-Ms", "300");
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertThat(endError(r).path("code").asText()).isEqualTo("deadline_exceeded");
        assertThat(ms).isBetween(250L, 5_000L);
        assertThat(deadlineSeenByHandler.get(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void keepalivesFlowWhileTheStreamIsIdle() throws Exception {
        HttpResponse<byte[]> r = stream("/test.Svc/Wait", envelope(0, "{}"), "Connect-Timeout-Ms", "2600",
                "Keepalive-Ping-Interval", "1");
        List<Envelope> all = envelopes(r.body());
        assertThat(all.size()).isBetween(3, 4);   // keepalives at ~1 s and ~2 s, then the deadline
        for (Envelope e : all.subList(0, all.size() - 1)) {
            assertThat(json(e.data()).path("text").asText()).isEqualTo("keepalive");
        }
        assertThat(endError(r).path("code").asText()).isEqualTo("deadline_exceeded");
    }

    @Test
    void aClientThatGoesAwayStopsTheProducer() throws Exception {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.getAddress().getPort())) {
            byte[] body = envelope(0, "{}");
            OutputStream out = socket.getOutputStream();
            out.write(("POST /test.Svc/Flood HTTP/1.1\r\nHost: x\r\nContent-Type: application/connect+json\r\n"
                    + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            InputStream in = socket.getInputStream();
            assertThat(in.readNBytes(12)).asString(StandardCharsets.US_ASCII).isEqualTo("HTTP/1.1 200");
            in.readNBytes(100_000);   // some of the flood, then hang up without reading the rest
        }
        int sent = disconnectedAfter.get(15, TimeUnit.SECONDS);
        assertThat(sent).isPositive();
    }

    @Test
    void envelopesRoundTrip() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new Envelope(2, "{\"a\":1}".getBytes(StandardCharsets.UTF_8)).write(out);
        byte[] bytes = out.toByteArray();
        assertThat(bytes).startsWith(2, 0, 0, 0, 7);
        Envelope back = Envelope.read(new ByteArrayInputStream(bytes), 100);
        assertThat(back.flags()).isEqualTo(2);
        assertThat(new String(back.data(), StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}");
        assertThat(Envelope.read(new ByteArrayInputStream(new byte[0]), 100)).isNull();
    }
}
