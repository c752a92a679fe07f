package dev.basalt.net.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.net.EgressCheck;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;

/**
 * The SNI parser against real ClientHellos (made by the JDK's TLS client), every way of cutting
 * and re-framing them, and a mutation fuzzer: hostile input must give a result, never an
 * exception, and never a host name that is not a valid one.
 */
class ClientHelloTest {

    /** A real TLS ClientHello record as the JDK's client sends it (TLS 1.3 and 1.2 offered). */
    static byte[] clientHello(String sni, String... protocols) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, null, null);
        SSLEngine e = ctx.createSSLEngine();
        e.setUseClientMode(true);
        SSLParameters p = e.getSSLParameters();
        if (sni != null) {
            p.setServerNames(List.of(new SNIHostName(sni)));
        }
        if (protocols.length > 0) {
            p.setProtocols(protocols);
        }
        e.setSSLParameters(p);
        ByteBuffer out = ByteBuffer.allocate(e.getSession().getPacketBufferSize());
        e.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        byte[] b = new byte[out.remaining()];
        out.get(b);
        return b;
    }

    /** The same handshake bytes re-framed into TLS records of at most {@code size} bytes. */
    static byte[] reframe(byte[] record, int size) {
        byte[] hs = Arrays.copyOfRange(record, 5, record.length);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < hs.length; i += size) {
            int n = Math.min(size, hs.length - i);
            out.write(0x16);
            out.write(3);
            out.write(1);
            out.write(n >> 8);
            out.write(n);
            out.write(hs, i, n);
        }
        return out.toByteArray();
    }

    private static Sniffed parse(byte[] b) {
        return ClientHello.serverName(b, b.length);
    }

    @Test
    void findsTheServerNameOfRealClientHellos() throws Exception {
        assertThat(parse(clientHello("allowed.test"))).isEqualTo(new Sniffed.Host("allowed.test"));
        assertThat(parse(clientHello("API.Wild.Test"))).isEqualTo(new Sniffed.Host("api.wild.test"));
        assertThat(parse(clientHello("a.example.com", "TLSv1.2"))).isEqualTo(new Sniffed.Host("a.example.com"));
        assertThat(parse(clientHello(null))).isEqualTo(Sniffed.NO_HOST);
    }

    @Test
    void everyPrefixIsIncompleteAndEveryFramingWorks() throws Exception {
        byte[] hello = clientHello("pypi.org");
        for (int n = 0; n < hello.length; n++) {
            assertThat(ClientHello.serverName(hello, n)).as("prefix %d", n).isEqualTo(Sniffed.INCOMPLETE);
        }
        for (int size : new int[] {1, 2, 3, 7, 100, 512}) {
            byte[] framed = reframe(hello, size);
            assertThat(parse(framed)).as("records of %d bytes", size).isEqualTo(new Sniffed.Host("pypi.org"));
        }
        byte[] withData = Arrays.copyOf(hello, hello.length + 50);   // bytes after the hello are not its business
        assertThat(parse(withData)).isEqualTo(new Sniffed.Host("pypi.org"));
    }

    @Test
    void inconsistentInputIsMalformed() throws Exception {
        byte[] hello = clientHello("pypi.org");
        assertThat(parse("GET / HTTP/1.1\r\n\r\n".getBytes())).isInstanceOf(Sniffed.Malformed.class);
        byte[] badVersion = hello.clone();
        badVersion[1] = 4;
        assertThat(parse(badVersion)).isInstanceOf(Sniffed.Malformed.class);
        byte[] zeroRecord = {0x16, 3, 1, 0, 0};
        assertThat(parse(zeroRecord)).isInstanceOf(Sniffed.Malformed.class);
        byte[] hugeRecord = {0x16, 3, 1, (byte) 0x7f, (byte) 0xff};
        assertThat(parse(hugeRecord)).isInstanceOf(Sniffed.Malformed.class);
        byte[] serverHello = hello.clone();
        serverHello[5] = 2;
        assertThat(parse(serverHello)).isInstanceOf(Sniffed.Malformed.class);
        // a hello that claims 16 MiB never makes the parser wait for it
        byte[] claimsHuge = {0x16, 3, 1, 0, 4, 1, (byte) 0xff, (byte) 0xff, (byte) 0xff};
        assertThat(parse(claimsHuge)).isInstanceOf(Sniffed.Malformed.class);
        // an endless stream of tiny records is cut off at the size limit
        byte[] endless = new byte[ClientHello.MAX_BYTES + 10];
        for (int i = 0; i + 6 <= endless.length; i += 6) {
            endless[i] = 0x16;
            endless[i + 1] = 3;
            endless[i + 2] = 1;
            endless[i + 4] = 1;
            endless[i + 5] = (byte) (i == 0 ? 1 : 0);
        }
        Sniffed r = parse(endless);
        assertThat(r).isNotInstanceOf(Sniffed.Host.class);
    }

    @Test
    void hostNamesThatAreNotHostNamesAreRefused() throws Exception {
        for (String evil : new String[] {"a..b", "-x.example.com", "exa_mple.com", "example.com.", "localhost"}) {
            byte[] hello = withName(clientHello("placeholder.example"), "placeholder.example", evil);
            assertThat(parse(hello)).as(evil).isInstanceOf(Sniffed.Malformed.class);
        }
        byte[] nul = withName(clientHello("abcdefgh.example"), "abcdefgh.example", "abc\0efgh.example");
        assertThat(parse(nul)).isInstanceOf(Sniffed.Malformed.class);
    }

    /** Replaces a same-length name inside the hello (lengths stay consistent). */
    private static byte[] withName(byte[] hello, String from, String to) {
        byte[] f = from.getBytes();
        byte[] t = Arrays.copyOf(to.getBytes(), f.length);
        if (to.length() < from.length()) {
            return withShorterName(hello, from, to);
        }
        for (int i = 0; i + f.length <= hello.length; i++) {
            if (Arrays.equals(hello, i, i + f.length, f, 0, f.length)) {
                byte[] out = hello.clone();
                System.arraycopy(t, 0, out, i, f.length);
                return out;
            }
        }
        throw new AssertionError("name not found");
    }

    private static byte[] withShorterName(byte[] hello, String from, String to) {
        try {
            return clientHelloRaw(hello, from, to);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** Rebuilds the hello with the SNI entry's name replaced and all four enclosing lengths fixed. */
    private static byte[] clientHelloRaw(byte[] hello, String from, String to) {
        byte[] f = from.getBytes();
        int at = -1;
        for (int i = 0; i + f.length <= hello.length; i++) {
            if (Arrays.equals(hello, i, i + f.length, f, 0, f.length)) {
                at = i;
                break;
            }
        }
        int delta = to.length() - from.length();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(hello, 0, at);
        out.write(to.getBytes(), 0, to.length());
        out.write(hello, at + f.length, hello.length - at - f.length);
        byte[] b = out.toByteArray();
        adjust16(b, at - 2, delta);           // host name length
        adjust16(b, at - 5, delta);           // server name list length
        adjust16(b, at - 7, delta);           // extension length
        int extTotal = findExtensionsLength(b);
        adjust16(b, extTotal, delta);
        adjust24(b, 6, delta);                // handshake length
        adjust16(b, 3, delta);                // record length
        return b;
    }

    private static int findExtensionsLength(byte[] b) {
        int p = 5 + 4 + 2 + 32;
        p += 1 + (b[p] & 255);
        p += 2 + (((b[p] & 255) << 8) | (b[p + 1] & 255));
        p += 1 + (b[p] & 255);
        return p;
    }

    private static void adjust16(byte[] b, int p, int delta) {
        int v = (((b[p] & 255) << 8) | (b[p + 1] & 255)) + delta;
        b[p] = (byte) (v >> 8);
        b[p + 1] = (byte) v;
    }

    private static void adjust24(byte[] b, int p, int delta) {
        int v = (((b[p] & 255) << 16) | ((b[p + 1] & 255) << 8) | (b[p + 2] & 255)) + delta;
        b[p] = (byte) (v >> 16);
        b[p + 1] = (byte) (v >> 8);
        b[p + 2] = (byte) v;
    }

    @Test
    void fuzzedClientHellosNeverThrowAndNeverYieldAnInvalidName() throws Exception {
        Random random = new Random(20261203);
        List<byte[]> seeds = List.of(clientHello("allowed.test"), clientHello("x.y.example.org", "TLSv1.2"), clientHello(null),
                reframe(clientHello("files.pythonhosted.org"), 40));
        long deadline = System.nanoTime() + 20_000_000_000L;
        int runs = 0;
        for (; runs < 300_000 && System.nanoTime() < deadline; runs++) {
            byte[] seed = seeds.get(random.nextInt(seeds.size()));
            byte[] b = mutate(seed, random);
            Sniffed r = ClientHello.serverName(b, b.length);
            assertThat(r).isNotNull();
            if (r instanceof Sniffed.Host h) {
                assertThat(EgressCheck.normalize(h.name())).as("name %s from input %s", h.name(), Arrays.toString(b)).isEqualTo(h.name());
            }
        }
        for (int i = 0; i < 20_000; i++) {   // plain noise, also starting like a handshake record
            byte[] b = new byte[random.nextInt(600)];
            random.nextBytes(b);
            if (b.length > 3 && random.nextBoolean()) {
                b[0] = 0x16;
                b[1] = 3;
            }
            assertThat(ClientHello.serverName(b, b.length)).isNotNull();
        }
        assertThat(runs).isGreaterThan(10_000);
    }

    static byte[] mutate(byte[] seed, Random r) {
        byte[] b = seed.clone();
        int kind = r.nextInt(5);
        switch (kind) {
            case 0 -> {   // flip a few bytes
                for (int i = 0, n = 1 + r.nextInt(4); i < n; i++) {
                    b[r.nextInt(b.length)] ^= (byte) (1 + r.nextInt(255));
                }
            }
            case 1 -> b = Arrays.copyOf(b, r.nextInt(b.length + 1));   // truncate
            case 2 -> {   // set a byte that is likely a length to an extreme
                int p = r.nextInt(b.length - 1);
                b[p] = (byte) (r.nextBoolean() ? 0xff : 0);
                b[p + 1] = (byte) (r.nextBoolean() ? 0xff : 0);
            }
            case 3 -> {   // duplicate a slice (repeated extensions, shifted lengths)
                int from = r.nextInt(b.length);
                int len = r.nextInt(Math.min(64, b.length - from) + 1);
                int to = r.nextInt(b.length);
                byte[] out = new byte[b.length + len];
                System.arraycopy(b, 0, out, 0, to);
                System.arraycopy(b, from, out, to, len);
                System.arraycopy(b, to, out, to + len, b.length - to);
                b = out;
            }
            default -> {   // random bytes in a random window
                int p = r.nextInt(b.length);
                for (int i = p; i < Math.min(b.length, p + 1 + r.nextInt(16)); i++) {
                    b[i] = (byte) r.nextInt(256);
                }
            }
        }
        return b;
    }
}
