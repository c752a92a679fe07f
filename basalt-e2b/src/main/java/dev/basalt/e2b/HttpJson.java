package dev.basalt.e2b;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON bodies and E2B's error shape ({@code {"code": <HTTP status>, "message": "..."}}) for the
 * plain-HTTP parts of the endpoint, and the one configured {@link ObjectMapper}.
 */
public final class HttpJson {
    /** Absent fields are left out; unknown ones ignored; empty messages written as {}. */
    public static final ObjectMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .serializationInclusion(JsonInclude.Include.NON_NULL)
            .addModule(new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .build();

    private HttpJson() {
    }

    /** The error body E2B's API and envd answer with. */
    public record ErrorBody(int code, String message) {
    }

    /** The 502 body E2B's proxy answers about a sandbox, or one of its ports, that cannot be reached. */
    public record SandboxErrorBody(String sandboxId, String message, Integer port, int code) {
    }

    /** Sends E2B's proxy answer: 502 with {@link SandboxErrorBody}; {@code port} null for a sandbox that is gone. */
    public static void sandboxError(HttpExchange exchange, String sandboxId, Integer port, String message) throws IOException {
        send(exchange, 502, new SandboxErrorBody(sandboxId, message, port, 502));
    }

    /** Sends {@code body} as JSON with {@code status}. */
    public static void send(HttpExchange exchange, int status, Object body) throws IOException {
        byte[] out = JSON.writeValueAsBytes(body);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, out.length);
        try (OutputStream os = exchange.getResponseBody()) {
            os.write(out);
        }
    }

    /** Sends an empty answer (204 and the like). */
    public static void empty(HttpExchange exchange, int status) throws IOException {
        exchange.sendResponseHeaders(status, -1);
    }

    /** Sends E2B's error body. */
    public static void error(HttpExchange exchange, int status, String message) throws IOException {
        send(exchange, status, new ErrorBody(status, message));
    }

    /** The query parameters of a request, each with its values in order (form decoding). */
    public static Map<String, List<String>> query(HttpExchange exchange) {
        String raw = exchange.getRequestURI().getRawQuery();
        Map<String, List<String>> params = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return params;
        }
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String key = decode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
            params.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
        }
        return params;
    }

    /** The first value of a query parameter, or null. */
    public static String first(Map<String, List<String>> query, String name) {
        List<String> values = query.get(name);
        return values == null || values.isEmpty() ? null : values.getFirst();
    }

    /** Form-decodes ({@code +} is a space); a malformed escape is kept as written. */
    public static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s;
        }
    }
}
