package dev.basalt.server.metrics;

import dev.basalt.api.PoolStats;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxState;
import dev.basalt.api.Sandboxes;
import io.grpc.ServerInterceptor;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * basaltd's metrics, in one Prometheus registry: sandboxes by state and pool sizes (read from the
 * observed port at each scrape), latency histograms of create / restore / fork / checkpoint / exec
 * (through {@link #instrument}), gRPC calls and errors by status code (through {@link #interceptor()}),
 * and the JVM's memory and threads. {@link #serveHttp} exposes them on a loopback port.
 *
 * <pre>{@code
 * ServerMetrics metrics = new ServerMetrics(manager);
 * metrics.serveHttp(9464);                                 // http://127.0.0.1:9464/metrics
 * BasaltServer.onUnixSocket(socket, manager, ServerOptions.defaults().withMetrics(metrics)).start();
 * }</pre>
 */
public final class ServerMetrics implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServerMetrics.class);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final MultiGauge networkBytes;
    private final Sandboxes observed;
    private final Map<SandboxState, AtomicLong> byState = new EnumMap<>(SandboxState.class);
    private final MultiGauge poolReady;
    private final MultiGauge poolTarget;
    private final GrpcMetricsInterceptor interceptor;
    private final ReentrantLock refreshing = new ReentrantLock();
    private MetricsEndpoint endpoint;

    /** Metrics of {@code observed} (the port whose sandboxes and pools are counted). */
    public ServerMetrics(Sandboxes observed) {
        this.observed = Objects.requireNonNull(observed, "observed");
        for (SandboxState state : SandboxState.values()) {
            AtomicLong count = new AtomicLong();
            byState.put(state, count);
            Gauge.builder("basalt.sandboxes", count, AtomicLong::get)
                    .description("Sandboxes by state").tag("state", state.name()).register(registry);
        }
        poolReady = MultiGauge.builder("basalt.pool.ready")
                .description("Sandboxes (warm) or started VMMs (standby) waiting in a pool").register(registry);
        poolTarget = MultiGauge.builder("basalt.pool.target")
                .description("The size a pool refills to").register(registry);
        networkBytes = MultiGauge.builder("basalt.sandbox.network.bytes")
                .description("IP bytes to (in) and from (out) a networked sandbox since it got its network").register(registry);
        interceptor = new GrpcMetricsInterceptor(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
    }

    /** The registry, for callers that add meters of their own. */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** {@code sandboxes} with its create / restore / fork / checkpoint / exec calls timed into this registry. */
    public Sandboxes instrument(Sandboxes sandboxes) {
        return new MeteredSandboxes(sandboxes, registry);
    }

    /**
     * Counts refused DNS questions and proxied connections into
     * {@code basalt_network_denied_total{kind=dns|connection}}; give it to
     * {@code SandboxManager.addDenialListener}.
     */
    public dev.basalt.net.DenialListener denialCounter() {
        io.micrometer.core.instrument.Counter dns = io.micrometer.core.instrument.Counter.builder("basalt.network.denied")
                .description("DNS questions and proxied connections the egress policy refused").tag("kind", "dns").register(registry);
        io.micrometer.core.instrument.Counter connections = io.micrometer.core.instrument.Counter.builder("basalt.network.denied")
                .description("DNS questions and proxied connections the egress policy refused").tag("kind", "connection").register(registry);
        return d -> (d.kind() == dev.basalt.net.Denial.Kind.DNS ? dns : connections).increment();
    }

    /** The gRPC interceptor that counts calls and non-OK statuses by method and code. */
    public ServerInterceptor interceptor() {
        return interceptor;
    }

    /** Re-reads the observed port's sandboxes and pools, then renders every meter in Prometheus text format. */
    public String scrape() {
        refresh();
        return registry.scrape();
    }

    /**
     * Serves {@link #scrape()} at {@code http://127.0.0.1:PORT/metrics} (port 0: any free port) until
     * {@link #close()}; returns the port.
     */
    public synchronized int serveHttp(int port) {
        if (endpoint != null) {
            throw new IllegalStateException("the metrics endpoint is already served on port " + endpoint.port());
        }
        endpoint = MetricsEndpoint.start(port, this::scrape);
        return endpoint.port();
    }

    /** The endpoint's port, or -1 when not served. */
    public synchronized int httpPort() {
        return endpoint == null ? -1 : endpoint.port();
    }

    private void refresh() {
        refreshing.lock();
        try {
            Map<SandboxState, Long> counts = new EnumMap<>(SandboxState.class);
            for (SandboxInfo info : observed.list()) {
                counts.merge(info.state(), 1L, Long::sum);
            }
            byState.forEach((state, gauge) -> gauge.set(counts.getOrDefault(state, 0L)));
            List<MultiGauge.Row<?>> ready = new ArrayList<>();
            List<MultiGauge.Row<?>> target = new ArrayList<>();
            for (PoolStats p : observed.pools()) {
                Tags warm = Tags.of("template", p.template(), "image", p.image(), "kind", "warm");
                Tags standby = Tags.of("template", p.template(), "image", p.image(), "kind", "standby");
                ready.add(MultiGauge.Row.of(warm, p.warmReady()));
                ready.add(MultiGauge.Row.of(standby, p.standbyReady()));
                target.add(MultiGauge.Row.of(warm, p.warmTarget()));
                target.add(MultiGauge.Row.of(standby, p.standbyTarget()));
            }
            poolReady.register(ready, true);
            poolTarget.register(target, true);
            List<MultiGauge.Row<?>> bytes = new ArrayList<>();
            for (SandboxInfo info : observed.list()) {
                if (info.state().isTerminal()) {
                    continue;
                }
                dev.basalt.api.NetworkStats n = observed.networkStats(info.id());
                if (n.bytesIn() > 0 || n.bytesOut() > 0) {
                    bytes.add(MultiGauge.Row.of(Tags.of("sandbox", info.id(), "direction", "in"), n.bytesIn()));
                    bytes.add(MultiGauge.Row.of(Tags.of("sandbox", info.id(), "direction", "out"), n.bytesOut()));
                }
            }
            networkBytes.register(bytes, true);
        } catch (RuntimeException e) {
            log.warn("cannot read sandboxes and pools for the metrics: {}", e.toString());
        } finally {
            refreshing.unlock();
        }
    }

    /** Stops the HTTP endpoint and closes the registry. */
    @Override
    public synchronized void close() {
        if (endpoint != null) {
            endpoint.close();
            endpoint = null;
        }
        registry.close();
    }
}
