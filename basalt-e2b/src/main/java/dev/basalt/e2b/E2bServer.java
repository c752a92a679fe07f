package dev.basalt.e2b;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.basalt.api.BasaltException;
import dev.basalt.api.EventFilter;
import dev.basalt.api.SandboxEvent;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxState;
import dev.basalt.api.Sandboxes;
import dev.basalt.e2b.control.ControlApi;
import dev.basalt.e2b.envd.Envd;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * E2B's API on one HTTP port, over a {@link Sandboxes} port: requests that name a sandbox (the
 * {@code E2b-Sandbox-Id} / {@code E2b-Sandbox-Port} headers, or {@code Host: <port>-<id>.<domain>})
 * go to that sandbox's envd ({@link Envd}) or, for another port, through {@link PortProxy} to the
 * guest's server on that port; all others to the control API ({@link ControlApi}).
 * The JDK's HTTP server, one virtual thread per request. Closing it stops serving; the sandboxes
 * stay.
 */
public final class E2bServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(E2bServer.class);
    /** How often a directory watch looks for changes. */
    static final Duration WATCH_INTERVAL = Duration.ofMillis(200);

    private final HttpServer server;
    private final ExecutorService executor;
    private final ControlApi control;
    private final Envd envd;
    private final PortProxy ports;
    private final Sandboxes port;
    private final SandboxRouting routing;
    private final AutoCloseable subscription;

    private E2bServer(HttpServer server, ExecutorService executor, ControlApi control, Envd envd, Sandboxes port,
                      SandboxRouting routing, AutoCloseable subscription) {
        this.server = server;
        this.executor = executor;
        this.control = control;
        this.envd = envd;
        this.port = port;
        this.ports = new PortProxy(port);
        this.routing = routing;
        this.subscription = subscription;
    }

    /** Starts serving. */
    public static E2bServer start(Sandboxes port, E2bOptions options) {
        SandboxRecords records = new SandboxRecords(options.recordsDir(), HttpJson.JSON, id -> exists(port, id));
        Envd envd = new Envd(port, records, WATCH_INTERVAL);
        AutoPause autoPause = new AutoPause(port, records);
        AutoCloseable subscription = port.subscribe(new EventFilter(null, Set.of(SandboxEvent.Kind.REMOVED)), event -> {
            autoPause.forget(event.sandboxId());
            records.remove(event.sandboxId());
            envd.forget(event.sandboxId());
        });
        ControlApi control = new ControlApi(port, options, records, autoPause);
        HttpServer server;
        try {
            server = HttpServer.create(options.address(), 128);
        } catch (IOException e) {
            closeQuietly(subscription);
            autoPause.close();
            envd.close();
            throw new BasaltException.Unavailable("cannot serve the E2B API on " + options.address() + ": " + e.getMessage()
                    + " (choose another port)", e);
        }
        ExecutorService executor = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("e2b-http-", 0).factory());
        server.setExecutor(executor);
        E2bServer e2b = new E2bServer(server, executor, control, envd, port, new SandboxRouting(options.domain()),
                () -> {
                    closeQuietly(subscription);
                    autoPause.close();
                });
        server.createContext("/", e2b::handle);
        server.start();
        log.info("E2B API on http://{}:{} (envd {})", options.address().getHostString(), e2b.port(), Envd.VERSION);
        return e2b;
    }

    private static boolean exists(Sandboxes port, String id) {
        try {
            port.inspect(id);
            return true;
        } catch (BasaltException.NotFound e) {
            return false;
        }
    }

    private void handle(HttpExchange exchange) {
        try (exchange) {
            route(exchange);
        } catch (IOException e) {
            log.debug("client of {} went away: {}", exchange.getRequestURI(), e.toString());
        } catch (RuntimeException e) {
            log.error("unexpected failure serving {} {}", exchange.getRequestMethod(), exchange.getRequestURI(), e);
        }
    }

    private void route(HttpExchange exchange) throws IOException {
        SandboxRouting.Target target;
        try {
            target = routing.target(exchange);
        } catch (BasaltException.InvalidArgument e) {
            HttpJson.error(exchange, 400, e.getMessage());
            return;
        }
        if (target == null) {
            control.serve(exchange);
        } else if (running(exchange, target)) {
            if (target.port() == Envd.PORT) {
                envd.serve(exchange, target.sandboxId());
            } else {
                ports.serve(exchange, target.sandboxId(), target.port());
            }
        }
    }

    /** True if the target's sandbox runs; otherwise answers as E2B's proxy does (502, and why). */
    private boolean running(HttpExchange exchange, SandboxRouting.Target target) throws IOException {
        String id = target.sandboxId();
        SandboxInfo info;
        try {
            info = port.inspect(id);
        } catch (BasaltException.NotFound e) {
            HttpJson.sandboxError(exchange, id, null, "The sandbox was not found");
            return false;
        }
        if (!info.state().isLive()) {
            HttpJson.sandboxError(exchange, id, null, "The sandbox is " + info.state().name().toLowerCase(Locale.ROOT)
                    + (info.state() == SandboxState.PAUSED ? ": connect to it (Sandbox.connect) to resume it" : ""));
            return false;
        }
        return true;
    }

    /** The port the server listens on (useful when it was started on port 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
        closeQuietly(subscription);
        envd.close();
        ports.close();
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            log.debug("closing {}: {}", c, e.toString());
        }
    }
}
