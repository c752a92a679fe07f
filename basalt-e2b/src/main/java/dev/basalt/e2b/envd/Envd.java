package dev.basalt.e2b.envd;

import com.sun.net.httpserver.HttpExchange;
import dev.basalt.api.BasaltException;
import dev.basalt.api.Sandboxes;
import dev.basalt.e2b.E2bSandbox;
import dev.basalt.e2b.HttpJson;
import dev.basalt.e2b.SandboxRecords;
import dev.basalt.e2b.connect.ConnectCode;
import dev.basalt.e2b.connect.ConnectRouter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;

/**
 * envd's API for every sandbox, served by basaltd itself: the caller routed the request to a
 * running sandbox ({@code E2b-Sandbox-Id} or the host name; {@code E2bServer} answers for one that
 * is gone or not running). {@code /health} answers without a token, and everything else needs the
 * sandbox's access token ({@code X-Access-Token}) before it reaches {@code /files} or the Connect
 * services {@code process.Process} and {@code filesystem.Filesystem}.
 */
public final class Envd implements AutoCloseable {
    /**
     * The envd version Basalt advertises: every feature the SDK gates on up to it is implemented
     * (stdin flag 0.3.0, default user 0.4.0, closeStdin 0.5.2, octet-stream upload 0.5.7); file
     * metadata (0.6.2) is not.
     */
    public static final String VERSION = "0.5.7";
    /** The port envd listens on in an E2B sandbox. */
    public static final int PORT = 49983;

    private final SandboxRecords records;
    private final GuestUsers users;
    private final ConnectRouter<EnvdContext> router = new ConnectRouter<>(HttpJson.JSON);
    private final ProcessService processes;
    private final FilesystemService filesystem;
    private final FilesEndpoint files;

    public Envd(Sandboxes port, SandboxRecords records, Duration watchInterval) {
        this.records = records;
        this.users = new GuestUsers(port);
        this.processes = new ProcessService(port);
        this.filesystem = new FilesystemService(port, watchInterval);
        this.files = new FilesEndpoint(port);
        processes.register(router);
        filesystem.register(router);
    }

    /** Serves one request routed to {@code sandboxId}'s envd; the caller checked that the sandbox runs. */
    public void serve(HttpExchange exchange, String sandboxId) throws IOException {
        String path = exchange.getRequestURI().getPath();
        if (path.equals("/health")) {
            HttpJson.empty(exchange, 204);
            return;
        }
        boolean rpc = router.has(path);
        E2bSandbox record = records.get(sandboxId).orElse(null);
        String token = exchange.getRequestHeaders().getFirst("X-Access-Token");
        if (record == null || token == null
                || !MessageDigest.isEqual(record.accessToken().getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8))) {
            String message = record == null
                    ? "sandbox " + sandboxId + " has no access token yet: connect to it through the API first"
                    : token == null ? "missing X-Access-Token: send the envdAccessToken that create or connect returned"
                    : "invalid X-Access-Token for sandbox " + sandboxId;
            if (rpc) {
                router.writeError(exchange, ConnectRouter.isStreaming(exchange), ConnectCode.UNAUTHENTICATED, message);
            } else {
                HttpJson.error(exchange, 401, message);
            }
            return;
        }
        try {
            if (path.equals("/files")) {
                PasswdEntry user = users.resolve(sandboxId, HttpJson.first(HttpJson.query(exchange), "username"));
                files.serve(exchange, new EnvdContext(record, user));
            } else if (rpc) {
                PasswdEntry user = users.resolve(sandboxId, basicUser(exchange.getRequestHeaders().getFirst("Authorization")));
                router.serve(exchange, new EnvdContext(record, user));
            } else if (path.startsWith("/process.") || path.startsWith("/filesystem.")) {
                router.serve(exchange, null);   // answers unimplemented
            } else {
                HttpJson.error(exchange, 404, "no such envd endpoint: " + path);
            }
        } catch (BasaltException e) {
            // the user lookup failed: envd answers 401 for an unknown user
            int status = e instanceof BasaltException.NotFound || e instanceof BasaltException.InvalidArgument ? 401 : 502;
            if (rpc) {
                router.writeError(exchange, ConnectRouter.isStreaming(exchange),
                        status == 401 ? ConnectCode.UNAUTHENTICATED : ConnectCode.UNAVAILABLE, e.getMessage());
            } else {
                HttpJson.error(exchange, status, e.getMessage());
            }
        }
    }

    /** The user of {@code Authorization: Basic base64(user:)}, or null without one. */
    static String basicUser(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return null;
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new BasaltException.InvalidArgument("the Authorization header is not valid base64");
        }
        int colon = decoded.indexOf(':');
        return colon < 0 ? decoded : decoded.substring(0, colon);
    }

    /** Drops everything kept for a sandbox that is gone. */
    public void forget(String sandboxId) {
        processes.forget(sandboxId);
        filesystem.forget(sandboxId);
        users.forget(sandboxId);
    }

    @Override
    public void close() {
        filesystem.close();
    }
}
