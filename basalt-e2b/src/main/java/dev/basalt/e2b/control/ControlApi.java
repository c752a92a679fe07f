package dev.basalt.e2b.control;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.sun.net.httpserver.HttpExchange;
import dev.basalt.api.BasaltException;
import dev.basalt.api.NetworkPolicy;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.SandboxState;
import dev.basalt.api.Sandboxes;
import dev.basalt.e2b.ApiKeys;
import dev.basalt.e2b.AutoPause;
import dev.basalt.e2b.E2bOptions;
import dev.basalt.e2b.E2bSandbox;
import dev.basalt.e2b.HttpJson;
import dev.basalt.e2b.SandboxRecords;
import dev.basalt.e2b.control.ApiMessages.Lifecycle;
import dev.basalt.e2b.control.ApiMessages.ListedSandbox;
import dev.basalt.e2b.control.ApiMessages.NewSandbox;
import dev.basalt.e2b.control.ApiMessages.SandboxCreated;
import dev.basalt.e2b.control.ApiMessages.SandboxDetail;
import dev.basalt.e2b.control.ApiMessages.TimeoutRequest;
import dev.basalt.e2b.envd.Envd;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * E2B's control API over the {@link Sandboxes} port: create, list, get, kill, timeout, pause and
 * connect/resume, with E2B's JSON fields, error body and status codes. Every call needs a known
 * {@code X-API-KEY}.
 */
public final class ControlApi {
    private static final Logger log = LoggerFactory.getLogger(ControlApi.class);
    /** E2B's deprecated but required client id; Basalt has no clients of its own. */
    static final String CLIENT_ID = "basalt";
    /** The end of a sandbox that has no time to live (made without the E2B API). */
    static final Instant NEVER = Instant.parse("9999-12-31T23:59:59Z");

    private final Sandboxes port;
    private final E2bOptions options;
    private final SandboxRecords records;
    private final ApiKeys keys;
    private final AutoPause autoPause;

    public ControlApi(Sandboxes port, E2bOptions options, SandboxRecords records, AutoPause autoPause) {
        this.port = port;
        this.options = options;
        this.records = records;
        this.keys = options.apiKeys();
        this.autoPause = autoPause;
    }

    /** Serves one control API request. */
    public void serve(HttpExchange exchange) throws IOException {
        String method = exchange.getRequestMethod();
        String path = exchange.getRequestURI().getPath();
        if (path.equals("/health") && method.equals("GET")) {
            HttpJson.send(exchange, 200, Map.of("message", "Health check successful"));
            return;
        }
        if (!keys.accepts(exchange.getRequestHeaders().getFirst("X-API-KEY"))) {
            HttpJson.error(exchange, 401, exchange.getRequestHeaders().containsKey("X-API-KEY")
                    ? "Invalid API key: it is not one of the keys basaltd was given"
                    : "Missing API key: send it in the X-API-KEY header");
            return;
        }
        try {
            route(exchange, method, path.split("/", -1));
        } catch (BasaltException e) {
            HttpJson.error(exchange, status(e), e.getMessage());
        } catch (JsonProcessingException e) {
            HttpJson.error(exchange, 400, "malformed JSON body: " + e.getOriginalMessage());
        } catch (RuntimeException e) {
            log.error("unexpected failure in {} {}", method, path, e);
            HttpJson.error(exchange, 500, "internal error in basaltd: " + e);
        }
    }

    private void route(HttpExchange exchange, String method, String[] seg) throws IOException {
        // seg[0] is "" (the path starts with '/')
        boolean v2 = seg.length > 1 && seg[1].equals("v2");
        int base = v2 ? 2 : 1;
        int n = seg.length - base;
        if (n < 1 || !seg[base].equals("sandboxes")) {
            HttpJson.error(exchange, 404, "no such endpoint: " + method + " " + exchange.getRequestURI().getPath());
            return;
        }
        if (n == 1) {
            switch (method) {
                case "POST" -> create(exchange);
                case "GET" -> Listing.serve(exchange, port, options, records, v2);
                default -> notAllowed(exchange, "GET, POST");
            }
            return;
        }
        String id = seg[base + 1];
        if (n == 2 && !v2) {
            switch (method) {
                case "GET" -> get(exchange, id);
                case "DELETE" -> kill(exchange, id);
                default -> notAllowed(exchange, "GET, DELETE");
            }
            return;
        }
        if (n == 3 && method.equals("POST")) {
            String action = seg[base + 2];
            switch (action) {
                case "connect" -> {
                    connect(exchange, id, false);
                    return;
                }
                case "resume" -> {
                    if (!v2) {
                        connect(exchange, id, true);
                        return;
                    }
                }
                case "timeout" -> {
                    if (!v2) {
                        timeout(exchange, id);
                        return;
                    }
                }
                case "pause" -> {
                    if (!v2) {
                        pause(exchange, id);
                        return;
                    }
                }
                default -> { }
            }
        }
        HttpJson.error(exchange, 404, "no such endpoint: " + method + " " + exchange.getRequestURI().getPath()
                + " (Basalt serves create, list, get, kill, timeout, pause, connect and resume of E2B's API)");
    }

    private void create(HttpExchange exchange) throws IOException {
        NewSandbox body = HttpJson.JSON.readValue(exchange.getRequestBody(), NewSandbox.class);
        if (body == null || body.templateID() == null || body.templateID().isBlank()) {
            throw new BasaltException.InvalidArgument("templateID is required: name a Basalt image (or an alias given to basaltd)");
        }
        refuseUnsupported(body);
        Duration ttl = body.timeout() == null ? options.defaultTimeout() : timeout(body.timeout());
        if (Boolean.FALSE.equals(body.autoPauseMemory())) {
            throw new BasaltException.InvalidArgument("autoPauseMemory=false (a filesystem-only pause) is not supported by Basalt: "
                    + "a pause always keeps the memory");
        }
        boolean autoPause = Boolean.TRUE.equals(body.autoPause());
        String image = options.imageOf(body.templateID());
        Map<String, String> labels = body.metadata() == null ? Map.of() : body.metadata();
        NetworkPolicy network = Egress.policy(body.allowInternetAccess(), body.network());
        // an auto-pause sandbox has no Basalt time to live: its timeout pauses it (AutoPause)
        SandboxSpec spec = options.baseSpec().withImage(image).withLabels(labels).withTtl(autoPause ? null : ttl)
                .withNetwork(network);
        E2bSandbox pending = new E2bSandbox("pending", SandboxRecords.newToken(), body.templateID(),
                body.envVars(), autoPause, body.allowInternetAccess(), null);
        SandboxInfo info = create(spec);
        E2bSandbox record = new E2bSandbox(info.id(), pending.accessToken(), pending.templateId(), pending.envVars(),
                autoPause, pending.allowInternetAccess(), autoPause ? Instant.now().plus(ttl) : null);
        try {
            records.put(record);
            if (autoPause) {
                this.autoPause.pauseAt(info.id(), record.pauseAt());
            }
        } catch (RuntimeException e) {
            port.remove(info.id());
            throw e;
        }
        log.info("E2B sandbox {} created from template {} (image {})", info.id(), body.templateID(), image);
        HttpJson.send(exchange, 201, created(record));
    }

    /**
     * Creates the sandbox; a networked one that cannot get its network (basaltd not root, no
     * nftables, ...) is 503 with what to do, since E2B's default asks for the internet.
     */
    private SandboxInfo create(SandboxSpec spec) {
        try {
            return port.create(spec);
        } catch (BasaltException.Unavailable | BasaltException.Internal e) {
            if (!spec.network().mode().hasNic()) {
                throw e;
            }
            throw new BasaltException.Unavailable(e.getMessage() + " (this sandbox asked for a network: allow_internet_access is on "
                    + "unless create says false, and network rules need one too; if basaltd cannot network here — it needs root "
                    + "and the nftables package — create it with allowInternetAccess: false)", e);
        }
    }

    private static void refuseUnsupported(NewSandbox body) {
        if (present(body.mcp())) {
            throw new BasaltException.InvalidArgument("mcp is not supported by Basalt");
        }
        if (present(body.volumeMounts())) {
            throw new BasaltException.InvalidArgument("volumeMounts are not supported by Basalt");
        }
        if (present(body.iam())) {
            throw new BasaltException.InvalidArgument("iam tokens are not supported by Basalt");
        }
    }

    private static boolean present(com.fasterxml.jackson.databind.JsonNode node) {
        return node != null && !node.isNull();
    }

    private Duration timeout(Long seconds) {
        long max = options.maxTimeout().toSeconds();
        if (seconds == null || seconds < 1 || seconds > max) {
            throw new BasaltException.InvalidArgument("timeout must be between 1 and " + max + " seconds, got " + seconds);
        }
        return Duration.ofSeconds(seconds);
    }

    private SandboxCreated created(E2bSandbox record) {
        return new SandboxCreated(record.templateId(), record.sandboxId(), CLIENT_ID, Envd.VERSION, record.accessToken(),
                options.domain());
    }

    private void get(HttpExchange exchange, String id) throws IOException {
        SandboxInfo info = visible(id);
        E2bSandbox record = records.getOrCreate(id, info.spec().image());
        HttpJson.send(exchange, 200, new SandboxDetail(record.templateId(), id, CLIENT_ID,
                info.createdAt().toString(), endAt(info, record).toString(), Envd.VERSION, record.accessToken(),
                Egress.internet(record.allowInternetAccess(), info.spec().network()), options.domain(), info.spec().vcpus(),
                info.spec().memoryMib(), 0, info.labels(), state(info.state()).orElseThrow(),
                new Lifecycle(record.autoPause() ? "pause" : "kill", false), Egress.detail(info.spec().network())));
    }

    private void kill(HttpExchange exchange, String id) throws IOException {
        requireId(id);
        port.remove(id);
        records.remove(id);
        HttpJson.empty(exchange, 204);
    }

    private void timeout(HttpExchange exchange, String id) throws IOException {
        TimeoutRequest body = HttpJson.JSON.readValue(exchange.getRequestBody(), TimeoutRequest.class);
        Duration ttl = timeout(body == null ? null : body.timeout());
        visible(id);
        setTimeout(id, ttl, false);
        HttpJson.empty(exchange, 204);
    }

    private void pause(HttpExchange exchange, String id) throws IOException {
        SandboxInfo info = visible(id);
        if (info.state() == SandboxState.PAUSED) {
            HttpJson.error(exchange, 409, "sandbox " + id + " is already paused");
            return;
        }
        port.pause(id);
        HttpJson.empty(exchange, 204);
    }

    private void connect(HttpExchange exchange, String id, boolean resumeOnly) throws IOException {
        TimeoutRequest body = HttpJson.JSON.readValue(exchange.getRequestBody(), TimeoutRequest.class);
        Duration ttl = body == null || body.timeout() == null ? options.defaultTimeout() : timeout(body.timeout());
        SandboxInfo info = visible(id);
        boolean resumed = false;
        if (info.state() == SandboxState.PAUSED) {
            info = port.resume(id);
            resumed = true;
            setTimeout(id, ttl, false);
        } else if (resumeOnly) {
            HttpJson.error(exchange, 409, "sandbox " + id + " is already running");
            return;
        } else {
            setTimeout(id, ttl, true);   // connect only ever extends the timeout
        }
        E2bSandbox record = records.getOrCreate(id, info.spec().image());
        HttpJson.send(exchange, resumed ? 201 : 200, created(record));
    }

    /**
     * Sets when the sandbox's timeout runs out: its Basalt time to live, or for an auto-pause
     * sandbox when it is paused. {@code extendOnly}: never earlier than it is now.
     */
    private void setTimeout(String id, Duration ttl, boolean extendOnly) {
        Instant wanted = Instant.now().plus(ttl);
        E2bSandbox record = records.get(id).orElse(null);
        if (record != null && record.autoPause()) {
            if (!extendOnly || record.pauseAt() == null || wanted.isAfter(record.pauseAt())) {
                autoPause.pauseAt(id, wanted);
            }
            return;
        }
        if (!extendOnly || port.inspect(id).expiresAt().map(wanted::isAfter).orElse(false)) {
            port.setTtl(id, ttl);
        }
    }

    /** A sandbox the E2B API shows (running or paused). */
    private SandboxInfo visible(String id) {
        requireId(id);
        SandboxInfo info = port.inspect(id);
        if (state(info.state()).isEmpty()) {
            throw new BasaltException.NotFound("sandbox " + id + " is " + info.state()
                    + info.failure().map(f -> " (" + f + ")").orElse("") + ": kill it to remove it");
        }
        return info;
    }

    private static void requireId(String id) {
        if (!E2bSandbox.isValidId(id)) {
            throw new BasaltException.NotFound("sandbox '" + id + "' not found: sandbox ids are 1-64 of [a-z0-9]");
        }
    }

    /** E2B's state of a sandbox: running or paused; empty for one that is stopping or gone. */
    static Optional<String> state(SandboxState state) {
        return switch (state) {
            case STARTING, READY, RUNNING -> Optional.of("running");
            case PAUSED -> Optional.of("paused");
            case STOPPING, STOPPED, FAILED -> Optional.empty();
        };
    }

    /** When the sandbox's timeout runs out: its pause time for an auto-pause sandbox, else its time to live. */
    static Instant endAt(SandboxInfo info, E2bSandbox record) {
        if (record != null && record.autoPause() && record.pauseAt() != null) {
            return record.pauseAt();
        }
        return info.expiresAt().orElse(NEVER);
    }

    private static void notAllowed(HttpExchange exchange, String allow) throws IOException {
        exchange.getResponseHeaders().set("Allow", allow);
        HttpJson.error(exchange, 405, "method not allowed here; allowed: " + allow);
    }

    /** The HTTP status of a Basalt error, as E2B's API would answer. */
    static int status(BasaltException e) {
        return switch (e) {
            case BasaltException.NotFound x -> 404;
            case BasaltException.InvalidArgument x -> 400;
            case BasaltException.WrongState x -> 409;
            case BasaltException.AlreadyExists x -> 409;
            case BasaltException.PermissionDenied x -> 403;
            case BasaltException.ResourceExhausted x -> 429;
            case BasaltException.Unavailable x -> 503;
            case BasaltException.TimedOut x -> 504;
            case BasaltException.Internal x -> 500;
        };
    }

    /** E2B's view of a list entry. */
    static ListedSandbox listed(SandboxInfo info, E2bSandbox record) {
        return new ListedSandbox(record == null ? info.spec().image() : record.templateId(), info.id(), CLIENT_ID,
                info.createdAt().toString(), endAt(info, record).toString(), info.spec().vcpus(), info.spec().memoryMib(), 0,
                info.labels(), state(info.state()).orElseThrow(), Envd.VERSION);
    }

    static List<String> states() {
        return List.of("running", "paused");
    }
}
