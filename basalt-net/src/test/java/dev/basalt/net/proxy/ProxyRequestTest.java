package dev.basalt.net.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.net.EgressCheck;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ProxyRequestTest {

    private static ProxyRequest parse(String head) {
        byte[] b = head.getBytes(StandardCharsets.ISO_8859_1);
        return ProxyRequest.parse(b, b.length);
    }

    @Test
    void connectAndAbsoluteRequestsAreUnderstood() {
        assertThat(parse("CONNECT Files.PythonHosted.org:443 HTTP/1.1\r\nHost: x\r\n\r\n"))
                .isEqualTo(new ProxyRequest.Connect("files.pythonhosted.org", 443, 56));
        ProxyRequest r = parse("GET http://example.com:8080/a?b HTTP/1.1\r\nHost: example.com:8080\r\nProxy-Connection: keep-alive\r\n"
                + "User-Agent: t\r\n\r\nbody");
        assertThat(r).isInstanceOf(ProxyRequest.Forward.class);
        ProxyRequest.Forward f = (ProxyRequest.Forward) r;
        assertThat(f.host()).isEqualTo("example.com");
        assertThat(f.port()).isEqualTo(8080);
        assertThat(new String(f.head(), StandardCharsets.US_ASCII))
                .isEqualTo("GET /a?b HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: t\r\nConnection: close\r\n\r\n");
        assertThat(((ProxyRequest.Forward) parse("GET http://example.com HTTP/1.0\r\n\r\n")).port()).isEqualTo(80);
    }

    @Test
    void whatAProxyDoesNotServeIsRefusedWithAReason() {
        for (String bad : new String[] {
                "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
                "GET https://example.com/ HTTP/1.1\r\n\r\n",
                "CONNECT example.com HTTP/1.1\r\n\r\n",
                "CONNECT example.com:99999 HTTP/1.1\r\n\r\n",
                "CONNECT [::1]:443 HTTP/1.1\r\n\r\n",
                "CONNECT a_b.example.com:443 HTTP/1.1\r\n\r\n",
                "GET http://user@example.com/ HTTP/1.1\r\n\r\n",
                "GET http://example.com/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                "GET http://example.com/ HTTP/1.1\r\n folded\r\n\r\n",
                "GET http://example.com/ HTTP/2.0\r\n\r\n"}) {
            assertThat(parse(bad)).as(bad).isInstanceOf(ProxyRequest.Malformed.class);
        }
        assertThat(parse("CONNECT example.com:443 HTTP/1.1\r\n")).isInstanceOf(ProxyRequest.Incomplete.class);
        byte[] huge = ("GET http://example.com/ HTTP/1.1\r\nX: " + "a".repeat(HttpHead.MAX_BYTES)).getBytes(StandardCharsets.US_ASCII);
        assertThat(ProxyRequest.parse(huge, huge.length)).isInstanceOf(ProxyRequest.Malformed.class);
    }

    @Test
    void fuzzedRequestsNeverThrowAndNeverYieldAnInvalidName() {
        Random random = new Random(11);
        byte[][] seeds = {
                "CONNECT pypi.org:443 HTTP/1.1\r\nHost: pypi.org:443\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                "GET http://a.example.com:81/x HTTP/1.1\r\nHost: a.example.com\r\nConnection: keep-alive\r\n\r\n".getBytes(StandardCharsets.US_ASCII)};
        for (int i = 0; i < 100_000; i++) {
            byte[] b = ClientHelloTest.mutate(seeds[i % 2], random);
            switch (ProxyRequest.parse(b, b.length)) {
                case ProxyRequest.Connect c -> assertThat(EgressCheck.normalize(c.host())).isEqualTo(c.host());
                case ProxyRequest.Forward f -> assertThat(EgressCheck.normalize(f.host())).isEqualTo(f.host());
                default -> { }
            }
        }
    }
}
