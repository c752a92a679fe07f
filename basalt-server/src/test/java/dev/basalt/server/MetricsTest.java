package dev.basalt.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.grpc.RemoteSandboxes;
import dev.basalt.server.metrics.ServerMetrics;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The Prometheus endpoint after real calls through the wire: the series exist and count what happened. */
@ExtendWith(GrpcVms.class)
class MetricsTest {

    @Test
    void scrapeAfterCreateAndExec(GrpcVms.Stack s) throws Exception {
        String name = "metrics-" + ProcessHandle.current().pid();
        try (ServerMetrics metrics = new ServerMetrics(s.manager());
             BasaltServer server = new BasaltServer(InProcessServerBuilder.forName(name), s.manager(),
                     ServerOptions.defaults().withMetrics(metrics)).start();
             RemoteSandboxes client = new RemoteSandboxes(InProcessChannelBuilder.forName(name).build())) {
            int port = metrics.serveHttp(0);
            dev.basalt.net.DenialListener denials = metrics.denialCounter();   // what basaltd hands the manager
            denials.denied(new dev.basalt.net.Denial("sbx", dev.basalt.net.Denial.Kind.DNS, "evil.example", "not in the allow list"));
            denials.denied(new dev.basalt.net.Denial("sbx", dev.basalt.net.Denial.Kind.CONNECTION, "10.0.0.1:443", "reserved"));
            denials.denied(new dev.basalt.net.Denial("sbx", dev.basalt.net.Denial.Kind.DNS, "evil2.example", "not in the allow list"));
            SandboxInfo created = client.create(SandboxSpec.defaults().withLabels(java.util.Map.of("test", "metrics")));
            try {
                client.exec(created.id(), ExecRequest.of("true"));
                client.exec(created.id(), ExecRequest.of("echo", "x").withTimeout(java.time.Duration.ofMinutes(1)),
                        dev.basalt.api.ExecOutput.discard());
                try (var process = client.start(created.id(), ExecRequest.of("cat"), dev.basalt.api.ExecOutput.discard())) {
                    process.closeStdin();
                    assertThat(process.awaitExit(java.time.Duration.ofMinutes(1)).success()).isTrue();
                }
                assertThatThrownBy(() -> client.inspect("000000000000")).isInstanceOf(BasaltException.NotFound.class);

                HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).isEqualTo(200);
                assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
                String text = response.body();
                assertThat(value(text, "basalt_sandbox_create_seconds_count{mode=\"wait\",outcome=\"ok\"}")).isEqualTo(1);
                assertThat(text).contains("basalt_sandbox_create_seconds_bucket{mode=\"wait\",outcome=\"ok\",le=");
                // a Run is the port's streamed exec on the server, an Exec a started process
                assertThat(value(text, "basalt_exec_seconds_count{mode=\"streamed\",outcome=\"ok\"}")).isEqualTo(2);
                assertThat(value(text, "basalt_exec_seconds_count{mode=\"process\",outcome=\"ok\"}")).isEqualTo(1);
                assertThat(text).contains("basalt_exec_seconds_bucket{mode=\"streamed\",outcome=\"ok\",le=");
                assertThat(value(text, "basalt_sandboxes{state=\"READY\"}") + value(text, "basalt_sandboxes{state=\"RUNNING\"}"))
                        .isGreaterThanOrEqualTo(2);     // the shared sandbox and ours
                assertThat(value(text, "basalt_sandboxes{state=\"FAILED\"}")).isZero();
                assertThat(value(text,
                        "basalt_grpc_errors_total{code=\"NOT_FOUND\",method=\"basalt.v1.SandboxService/Inspect\"}")).isEqualTo(1);
                assertThat(value(text, "basalt_grpc_calls_total{code=\"OK\",method=\"basalt.v1.SandboxService/Create\"}")).isEqualTo(1);
                assertThat(text).doesNotContain("basalt_grpc_errors_total{code=\"OK\"");
                if (!s.manager().pools().isEmpty()) {
                    assertThat(text).contains("basalt_pool_ready{");
                }
                assertThat(text).contains("jvm_memory_used_bytes");
                assertThat(value(text, "basalt_network_denied_total{kind=\"dns\"}")).isEqualTo(2);
                assertThat(value(text, "basalt_network_denied_total{kind=\"connection\"}")).isEqualTo(1);

                HttpResponse<String> post = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/metrics")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(post.statusCode()).isEqualTo(405);
            } finally {
                client.remove(created.id());
            }
            assertThatThrownBy(() -> metrics.serveHttp(0)).isInstanceOf(IllegalStateException.class);
        }
    }

    /** The value of the series {@code series} (name and labels exactly as exposed). */
    static double value(String text, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(text);
        assertThat(m.find()).as("series %s in:%n%s", series, text).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
