package dev.basalt.server.metrics;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts every gRPC call when it closes, by method and status code ({@code basalt_grpc_calls_total}),
 * and the non-OK ones again as {@code basalt_grpc_errors_total}, so an alert needs no label filter.
 * Installed outermost, it also sees calls refused by authentication.
 */
final class GrpcMetricsInterceptor implements ServerInterceptor {
    private final MeterRegistry registry;
    private final Map<String, Counter[]> counters = new ConcurrentHashMap<>();

    GrpcMetricsInterceptor(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        return next.startCall(new SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                count(method, status.getCode());
                super.close(status, trailers);
            }
        }, headers);
    }

    private void count(String method, Status.Code code) {
        Counter[] c = counters.computeIfAbsent(method + ' ' + code, k -> {
            Counter calls = Counter.builder("basalt.grpc.calls").description("gRPC calls by method and status code")
                    .tag("method", method).tag("code", code.name()).register(registry);
            Counter errors = code == Status.Code.OK ? null : Counter.builder("basalt.grpc.errors")
                    .description("gRPC calls that ended with a non-OK status, by method and code")
                    .tag("method", method).tag("code", code.name()).register(registry);
            return new Counter[] {calls, errors};
        });
        c[0].increment();
        if (c[1] != null) {
            c[1].increment();
        }
    }
}
