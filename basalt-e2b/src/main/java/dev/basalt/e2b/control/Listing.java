package dev.basalt.e2b.control;

import com.sun.net.httpserver.HttpExchange;
import dev.basalt.api.BasaltException;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.Sandboxes;
import dev.basalt.e2b.E2bOptions;
import dev.basalt.e2b.HttpJson;
import dev.basalt.e2b.SandboxRecords;
import dev.basalt.e2b.control.ApiMessages.ListedSandbox;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * GET /sandboxes (running sandboxes, all at once) and GET /v2/sandboxes (filtered by state and
 * metadata, newest first unless {@code order=asc}, in pages of {@code limit} with the cursor of
 * the next page in the {@code X-Next-Token} header).
 */
final class Listing {
    static final int MAX_LIMIT = 100;

    private Listing() {
    }

    /** Where a page starts: after the sandbox created at {@code createdAt} with id {@code id}. */
    record Cursor(Instant createdAt, String id) {
        String encode() {
            return Base64.getUrlEncoder().withoutPadding()
                    .encodeToString((createdAt.getEpochSecond() + "." + createdAt.getNano() + ":" + id).getBytes(StandardCharsets.UTF_8));
        }

        static Cursor decode(String token) {
            try {
                String s = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
                int colon = s.indexOf(':');
                int dot = s.indexOf('.');
                if (colon < 0 || dot < 0 || dot > colon) {
                    throw new IllegalArgumentException(s);
                }
                return new Cursor(Instant.ofEpochSecond(Long.parseLong(s.substring(0, dot)), Long.parseLong(s.substring(dot + 1, colon))),
                        s.substring(colon + 1));
            } catch (IllegalArgumentException | java.time.DateTimeException e) {
                throw new BasaltException.InvalidArgument("nextToken '" + token + "' is not a cursor this server gave out");
            }
        }
    }

    static void serve(HttpExchange exchange, Sandboxes port, E2bOptions options, SandboxRecords records, boolean v2)
            throws IOException {
        Map<String, List<String>> query = HttpJson.query(exchange);
        Map<String, String> metadata = metadata(HttpJson.first(query, "metadata"));
        Set<String> states = v2 ? states(query.get("state")) : Set.of("running");
        String template = v2 ? HttpJson.first(query, "template") : null;
        boolean ascending = "asc".equals(HttpJson.first(query, "order"));
        if (v2 && HttpJson.first(query, "order") != null && !List.of("asc", "desc").contains(HttpJson.first(query, "order"))) {
            throw new BasaltException.InvalidArgument("order must be asc or desc");
        }
        Instant startedAfter = v2 && HttpJson.first(query, "startedAfter") != null
                ? parseInstant(HttpJson.first(query, "startedAfter")) : null;
        int limit = v2 ? limit(HttpJson.first(query, "limit")) : Integer.MAX_VALUE;
        Cursor after = v2 && HttpJson.first(query, "nextToken") != null ? Cursor.decode(HttpJson.first(query, "nextToken")) : null;

        Comparator<SandboxInfo> order = Comparator.comparing(SandboxInfo::createdAt).thenComparing(SandboxInfo::id);
        if (!ascending) {
            order = order.reversed();
        }
        List<SandboxInfo> matching = new ArrayList<>();
        for (SandboxInfo info : port.list()) {
            String state = ControlApi.state(info.state()).orElse(null);
            if (state == null || !states.contains(state) || !info.labels().entrySet().containsAll(metadata.entrySet())) {
                continue;
            }
            if (startedAfter != null && info.createdAt().isBefore(startedAfter)) {
                continue;
            }
            if (template != null && !template.equals(records.get(info.id()).map(r -> r.templateId()).orElse(info.spec().image()))) {
                continue;
            }
            if (after != null) {
                int c = Comparator.comparing(SandboxInfo::createdAt).thenComparing(SandboxInfo::id)
                        .compare(info, probe(after, info));
                if (ascending ? c <= 0 : c >= 0) {
                    continue;
                }
            }
            matching.add(info);
        }
        matching.sort(order);
        List<ListedSandbox> page = new ArrayList<>();
        for (SandboxInfo info : matching.subList(0, Math.min(limit, matching.size()))) {
            page.add(ControlApi.listed(info, records.get(info.id()).orElse(null)));
        }
        if (matching.size() > limit) {
            SandboxInfo last = matching.get(limit - 1);
            exchange.getResponseHeaders().set("X-Next-Token", new Cursor(last.createdAt(), last.id()).encode());
        }
        HttpJson.send(exchange, 200, page);
    }

    /** A stand-in with the cursor's sort key, to compare against with the list's comparator. */
    private static SandboxInfo probe(Cursor cursor, SandboxInfo shape) {
        return new SandboxInfo(cursor.id(), shape.state(), shape.spec(), shape.accel(), 0, cursor.createdAt(),
                shape.readyAt(), 0, shape.failure(), shape.origin(), shape.expiresAt());
    }

    private static Set<String> states(List<String> values) {
        if (values == null || values.isEmpty()) {
            return Set.copyOf(ControlApi.states());
        }
        Set<String> states = new LinkedHashSet<>();
        for (String value : values) {
            for (String s : value.split(",")) {
                if (s.isEmpty()) {
                    continue;
                }
                if (!ControlApi.states().contains(s)) {
                    throw new BasaltException.InvalidArgument("state '" + s + "' is unknown: use running or paused");
                }
                states.add(s);
            }
        }
        return states.isEmpty() ? Set.copyOf(ControlApi.states()) : states;
    }

    private static int limit(String value) {
        if (value == null) {
            return MAX_LIMIT;
        }
        try {
            int limit = Integer.parseInt(value);
            if (limit >= 1 && limit <= MAX_LIMIT) {
                return limit;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new BasaltException.InvalidArgument("limit must be between 1 and " + MAX_LIMIT + ", got '" + value + "'");
    }

    private static Instant parseInstant(String value) {
        try {
            return java.time.OffsetDateTime.parse(value).toInstant();
        } catch (java.time.format.DateTimeParseException e) {
            throw new BasaltException.InvalidArgument("startedAfter must be an RFC 3339 time, got '" + value + "'");
        }
    }

    /**
     * The metadata filter: {@code k=v&k2=v2} with keys and values URL-encoded once more (the query
     * parameter itself was decoded already).
     */
    static Map<String, String> metadata(String filter) {
        Map<String, String> wanted = new LinkedHashMap<>();
        if (filter == null || filter.isEmpty()) {
            return wanted;
        }
        for (String pair : filter.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new BasaltException.InvalidArgument("metadata filter '" + pair + "' is not key=value");
            }
            wanted.put(HttpJson.decode(HttpJson.decode(pair.substring(0, eq))),
                    HttpJson.decode(HttpJson.decode(pair.substring(eq + 1))));
        }
        return wanted;
    }
}
