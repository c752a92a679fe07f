package dev.basalt.net.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.net.EgressCheck;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HttpHeadTest {

    private static Sniffed parse(String head) {
        byte[] b = head.getBytes(StandardCharsets.ISO_8859_1);
        return HttpHead.host(b, b.length);
    }

    @Test
    void findsTheHostOfRequests() {
        assertThat(parse("GET / HTTP/1.1\r\nHost: Files.PythonHosted.org\r\nAccept: */*\r\n\r\n")).isEqualTo(new Sniffed.Host("files.pythonhosted.org"));
        assertThat(parse("GET /x HTTP/1.0\nhost: example.com:8080\n\n")).isEqualTo(new Sniffed.Host("example.com"));
        assertThat(parse("GET http://a.example.com/p HTTP/1.1\r\nHost: b.example.com\r\n\r\n")).isEqualTo(new Sniffed.Host("a.example.com"));
        assertThat(parse("POST / HTTP/1.1\r\nHost: 203.0.113.7\r\nContent-Length: 3\r\n\r\nabc")).isEqualTo(new Sniffed.Host("203.0.113.7"));
    }

    @Test
    void waitsForTheWholeHead() {
        String head = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
        for (int n = 0; n < head.length(); n++) {
            byte[] b = head.getBytes(StandardCharsets.US_ASCII);
            assertThat(HttpHead.host(b, n)).as("prefix %d", n).isEqualTo(Sniffed.INCOMPLETE);
        }
    }

    @Test
    void refusesWhatIsNotAPlainRequestForOneHost() {
        for (String bad : new String[] {
                "GET / HTTP/1.1\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: a.example.com\r\nHost: b.example.com\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: a.example.com\r\n folded\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: user@a.example.com\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: a.example.com:99999999\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: a_b.example.com\r\n\r\n",
                "CONNECT a.example.com:443 HTTP/1.1\r\nHost: a.example.com\r\n\r\n",
                "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
                "get / HTTP/1.1\r\nHost: a.example.com\r\n\r\n",
                "GET / HTTP/1.1\r\nHo st: a.example.com\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: a.exa\u00e9mple.com\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: a.example.com\0\r\n\r\n",
                "\u0016\u0003\u0001\u0000\u0005hello\r\n\r\n"}) {
            assertThat(parse(bad)).as(bad).isInstanceOf(Sniffed.Malformed.class);
        }
        byte[] huge = ("GET / HTTP/1.1\r\nX: " + "a".repeat(HttpHead.MAX_BYTES)).getBytes(StandardCharsets.US_ASCII);
        assertThat(HttpHead.host(huge, huge.length)).isInstanceOf(Sniffed.Malformed.class);
    }

    @Test
    void fuzzedHeadsNeverThrowAndNeverYieldAnInvalidName() {
        Random random = new Random(7);
        byte[] seed = "GET http://a.example.com/ HTTP/1.1\r\nHost: b.example.com:80\r\nUser-Agent: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        for (int i = 0; i < 100_000; i++) {
            byte[] b = ClientHelloTest.mutate(seed, random);
            Sniffed r = HttpHead.host(b, b.length);
            if (r instanceof Sniffed.Host h) {
                assertThat(EgressCheck.normalize(h.name())).isEqualTo(h.name());
            }
        }
    }
}
