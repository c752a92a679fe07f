package dev.basalt.e2b.connect;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.basalt.api.BasaltException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Connect protocol (JSON codec, HTTP/1.1) on the server side: unary and server-streaming
 * procedures at {@code POST /<package.Service>/<Method>}. It reads and checks the request
 * (method, content type, protocol version, {@code Connect-Timeout-Ms}, envelope framing, JSON),
 * calls the handler, and writes its answer: for unary calls a JSON body or an error with the code's
 * HTTP status, for streams 5-byte envelopes ending with an end-of-stream envelope that holds the
 * error, if any. Streams also get keepalive messages when the client asks for them
 * ({@code Keepalive-Ping-Interval}, seconds) and end with {@code deadline_exceeded} when the
 * deadline passes. Handlers report failures by throwing {@link BasaltException}.
 *
 * @param <C> the context the router's caller hands to every handler
 */
public final class ConnectRouter<C> {
    private static final Logger log = LoggerFactory.getLogger(ConnectRouter.class);
    /** Largest request message; E2B's requests are small (stdin chunks, paths). */
    public static final int MAX_REQUEST_BYTES = 4 << 20;
    static final String JSON = "application/json";
    static final String STREAM_JSON = "application/connect+json";
    private static final Pattern TIMEOUT = Pattern.compile("[0-9]{1,10}");
    private static final Duration MIN_KEEPALIVE = Duration.ofSeconds(1);

    /** A unary procedure. */
    public interface Unary<C, Q, R> {
        R call(Call<C> call, Q request);
    }

    /** A server-streaming procedure: it returns when the stream is complete. */
    public interface ServerStream<C, Q, R> {
        void call(Call<C> call, Q request, StreamSink<R> sink);
    }

    private sealed interface Procedure<C> permits UnaryProcedure, StreamProcedure {
        Class<?> requestType();
    }

    private record UnaryProcedure<C, Q, R>(Class<Q> requestType, Unary<C, Q, R> handler) implements Procedure<C> {
    }

    private record StreamProcedure<C, Q, R>(Class<Q> requestType, R keepalive, ServerStream<C, Q, R> handler)
            implements Procedure<C> {
    }

    private final ObjectMapper json;
    private final Map<String, Procedure<C>> procedures = new ConcurrentHashMap<>();

    public ConnectRouter(ObjectMapper json) {
        this.json = json;
    }

    /** Registers a unary procedure at {@code /service/method}. */
    public <Q, R> ConnectRouter<C> unary(String service, String method, Class<Q> requestType, Unary<C, Q, R> handler) {
        procedures.put("/" + service + "/" + method, new UnaryProcedure<>(requestType, handler));
        return this;
    }

    /**
     * Registers a server-streaming procedure at {@code /service/method}; {@code keepalive} is the
     * message sent when the client asked for keepalives and nothing else was sent for that long.
     */
    public <Q, R> ConnectRouter<C> serverStream(String service, String method, Class<Q> requestType, R keepalive,
                                                ServerStream<C, Q, R> handler) {
        procedures.put("/" + service + "/" + method, new StreamProcedure<>(requestType, keepalive, handler));
        return this;
    }

    /** True if {@code path} names a registered procedure. */
    public boolean has(String path) {
        return procedures.containsKey(path);
    }

    /**
     * Serves one request (its path must name a procedure, else the answer is {@code unimplemented}).
     * Never throws: every failure becomes an answer in the protocol's shape, or a dropped connection
     * if the client is gone.
     */
    public void serve(HttpExchange exchange, C context) {
        String path = exchange.getRequestURI().getPath();
        Procedure<C> procedure = procedures.get(path);
        String contentType = contentType(exchange);
        boolean streamingRequest = contentType.startsWith("application/connect+");
        try {
            if (procedure == null) {
                writeError(exchange, streamingRequest, ConnectCode.UNIMPLEMENTED, "no procedure " + path
                        + " here: this server implements process.Process and filesystem.Filesystem of envd");
                return;
            }
            if (!exchange.getRequestMethod().equals("POST")) {
                exchange.getResponseHeaders().set("Allow", "POST");
                plainStatus(exchange, 405);
                return;
            }
            switch (procedure) {
                case UnaryProcedure<C, ?, ?> unary -> serveUnary(exchange, context, contentType, unary);
                case StreamProcedure<C, ?, ?> stream -> serveStream(exchange, context, contentType, stream);
            }
        } catch (IOException e) {
            log.debug("client of {} went away: {}", path, e.toString());
        } finally {
            exchange.close();
        }
    }

    private <Q, R> void serveUnary(HttpExchange exchange, C context, String contentType,
                                   UnaryProcedure<C, Q, R> procedure) throws IOException {
        if (!contentType.equals(JSON)) {
            unsupportedMediaType(exchange, JSON);
            return;
        }
        R response;
        try {
            Optional<Duration> timeout = checkHeaders(exchange);
            byte[] body = readBody(exchange.getRequestBody());
            Q request = decode(body, procedure.requestType());
            response = procedure.handler().call(new Call<>(context, exchange.getRequestHeaders(), timeout), request);
        } catch (BasaltException e) {
            writeError(exchange, false, ConnectCode.of(e), e.getMessage());
            return;
        } catch (RuntimeException e) {
            log.error("unexpected failure in {}", exchange.getRequestURI().getPath(), e);
            writeError(exchange, false, ConnectCode.INTERNAL, "internal error in basaltd: " + e);
            return;
        }
        byte[] out = json.writeValueAsBytes(response);
        exchange.getResponseHeaders().set("Content-Type", JSON);
        exchange.sendResponseHeaders(200, out.length);
        try (OutputStream os = exchange.getResponseBody()) {
            os.write(out);
        }
    }

    private <Q, R> void serveStream(HttpExchange exchange, C context, String contentType,
                                    StreamProcedure<C, Q, R> procedure) throws IOException {
        if (!contentType.equals(STREAM_JSON)) {
            unsupportedMediaType(exchange, STREAM_JSON);
            return;
        }
        exchange.getResponseHeaders().set("Content-Type", STREAM_JSON);
        Optional<Duration> timeout;
        Q request;
        try {
            timeout = checkHeaders(exchange);
            request = decode(readSingleEnvelope(exchange.getRequestBody()), procedure.requestType());
        } catch (BasaltException e) {
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream os = exchange.getResponseBody()) {
                endStream(os, ConnectCode.of(e), e.getMessage());
            }
            return;
        }
        exchange.sendResponseHeaders(200, 0);
        OutputStream os = exchange.getResponseBody();
        Duration keepalive = keepaliveInterval(exchange);
        try (ResponseStream<R> sink = new ResponseStream<>(json, os, timeout, keepalive, procedure.keepalive())) {
            try {
                procedure.handler().call(new Call<>(context, exchange.getRequestHeaders(), timeout), request, sink);
                sink.finish(null, null);
            } catch (BasaltException e) {
                sink.finish(ConnectCode.of(e), e.getMessage());
            } catch (RuntimeException e) {
                log.error("unexpected failure in {}", exchange.getRequestURI().getPath(), e);
                sink.finish(ConnectCode.INTERNAL, "internal error in basaltd: " + e);
            }
        }
    }

    /** Checks the protocol headers and returns the deadline, if the client set one. */
    private static Optional<Duration> checkHeaders(HttpExchange exchange) {
        String version = exchange.getRequestHeaders().getFirst("Connect-Protocol-Version");
        if (version != null && !version.equals("1")) {
            throw new BasaltException.InvalidArgument("Connect-Protocol-Version must be 1, got '" + version + "'");
        }
        for (String header : new String[] {"Content-Encoding", "Connect-Content-Encoding"}) {
            String encoding = exchange.getRequestHeaders().getFirst(header);
            if (encoding != null && !encoding.equalsIgnoreCase("identity")) {
                throw new BasaltException.InvalidArgument(header + " '" + encoding + "' is not supported: send uncompressed messages");
            }
        }
        String timeout = exchange.getRequestHeaders().getFirst("Connect-Timeout-Ms");
        if (timeout == null) {
            return Optional.empty();
        }
        if (!TIMEOUT.matcher(timeout).matches()) {
            throw new BasaltException.InvalidArgument("Connect-Timeout-Ms must be 1 to 10 digits, got '" + timeout + "'");
        }
        return Optional.of(Duration.ofMillis(Long.parseLong(timeout)));
    }

    private static Duration keepaliveInterval(HttpExchange exchange) {
        String value = exchange.getRequestHeaders().getFirst("Keepalive-Ping-Interval");
        if (value == null || !TIMEOUT.matcher(value).matches()) {
            return null;
        }
        Duration interval = Duration.ofSeconds(Long.parseLong(value));
        return interval.compareTo(MIN_KEEPALIVE) < 0 ? MIN_KEEPALIVE : interval;
    }

    private static byte[] readBody(InputStream in) throws IOException {
        byte[] body = in.readNBytes(MAX_REQUEST_BYTES + 1);
        if (body.length > MAX_REQUEST_BYTES) {
            throw new BasaltException.InvalidArgument("request body is larger than the limit of " + MAX_REQUEST_BYTES + " bytes");
        }
        return body;
    }

    private static byte[] readSingleEnvelope(InputStream in) {
        try {
            Envelope envelope = Envelope.read(in, MAX_REQUEST_BYTES);
            if (envelope == null) {
                throw new BasaltException.InvalidArgument("the request has no message: a server-streaming call takes exactly one enveloped message");
            }
            if ((envelope.flags() & Envelope.COMPRESSED) != 0) {
                throw new BasaltException.InvalidArgument("compressed messages are not supported: send them uncompressed");
            }
            if (envelope.flags() != 0) {
                throw new BasaltException.InvalidArgument("request envelope has unknown flags 0x" + Integer.toHexString(envelope.flags()));
            }
            if (in.read() >= 0) {
                throw new BasaltException.InvalidArgument("the request has more than one message: a server-streaming call takes exactly one");
            }
            return envelope.data();
        } catch (IOException e) {
            throw new BasaltException.InvalidArgument("could not read the request: " + e.getMessage(), e);
        }
    }

    private <Q> Q decode(byte[] body, Class<Q> type) {
        try {
            Q value = json.readValue(body.length == 0 ? "{}".getBytes(StandardCharsets.UTF_8) : body, type);
            if (value == null) {
                throw new BasaltException.InvalidArgument("the request message is null: send a JSON object");
            }
            return value;
        } catch (JsonProcessingException e) {
            throw new BasaltException.InvalidArgument("malformed JSON for " + type.getSimpleName() + ": " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new BasaltException.InvalidArgument("could not read the request: " + e.getMessage(), e);
        }
    }

    private static String contentType(HttpExchange exchange) {
        String value = exchange.getRequestHeaders().getFirst("Content-Type");
        if (value == null) {
            return "";
        }
        int semi = value.indexOf(';');
        return (semi < 0 ? value : value.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
    }

    private static void unsupportedMediaType(HttpExchange exchange, String expected) throws IOException {
        exchange.getResponseHeaders().set("Accept-Post", expected);
        plainStatus(exchange, 415);
    }

    private static void plainStatus(HttpExchange exchange, int status) throws IOException {
        exchange.sendResponseHeaders(status, -1);
    }

    /** Writes an error as the protocol wants it: a unary error body, or a stream with only its end. */
    public void writeError(HttpExchange exchange, boolean streaming, ConnectCode code, String message) throws IOException {
        if (streaming) {
            exchange.getResponseHeaders().set("Content-Type", STREAM_JSON);
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream os = exchange.getResponseBody()) {
                endStream(os, code, message);
            }
            return;
        }
        byte[] body = json.writeValueAsBytes(errorBody(code, message));
        exchange.getResponseHeaders().set("Content-Type", JSON);
        exchange.sendResponseHeaders(code.httpStatus(), body.length);
        try (OutputStream os = exchange.getResponseBody()) {
            os.write(body);
        }
    }

    /** True if the request is a Connect streaming request (judged by its content type). */
    public static boolean isStreaming(HttpExchange exchange) {
        return contentType(exchange).startsWith("application/connect+");
    }

    private ObjectNode errorBody(ConnectCode code, String message) {
        ObjectNode error = json.createObjectNode();
        error.put("code", code.wireName());
        error.put("message", message == null ? "" : message);
        return error;
    }

    private void endStream(OutputStream os, ConnectCode code, String message) throws IOException {
        ObjectNode end = json.createObjectNode();
        if (code != null) {
            end.set("error", errorBody(code, message));
        }
        new Envelope(Envelope.END_STREAM, json.writeValueAsBytes(end)).write(os);
        os.flush();
    }
}
