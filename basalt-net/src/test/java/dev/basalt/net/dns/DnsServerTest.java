package dev.basalt.net.dns;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.EgressRule;
import dev.basalt.api.NetworkPolicy;
import dev.basalt.net.Denial;
import dev.basalt.net.EgressCheck;
import dev.basalt.net.Lease;
import dev.basalt.net.host.NetNamespace;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * The resolver over real UDP on loopback, with hostile and refused queries (answered without
 * asking upstream; the upstream here is a closed loopback port, so an allowed A question gets
 * SERVFAIL). Allowed names resolving for real are covered by GuestNetworkTest.
 */
class DnsServerTest {
    private static final int LOOPBACK = EgressRule.Cidr.parseAddress("127.0.0.1", "");
    private DnsServer server;
    private DatagramSocket client;
    private final List<Denial> denials = new CopyOnWriteArrayList<>();
    private volatile Lease lease = new Lease("sbx-1", NetworkPolicy.allow("allowed.test", "*.wild.test"));

    @BeforeEach
    void start() throws IOException {
        NetNamespace ns = NetNamespace.current();
        EgressCheck check = new EgressCheck(EgressRule.Cidr.parse("10.203.0.0/16"), Set::of);
        Upstream upstream = new Upstream(List.of(new InetSocketAddress("127.0.0.1", 9)), ns);
        server = DnsServer.start(ns, upstream, check, ip -> ip == LOOPBACK ? lease : null, denials::add);
        client = new DatagramSocket();
        client.setSoTimeout(3000);
        client.connect(new InetSocketAddress("127.0.0.1", server.port()));
    }

    @AfterEach
    void stop() {
        client.close();
        server.close();
    }

    private byte[] exchange(byte[] query) throws IOException {
        client.send(new DatagramPacket(query, query.length));
        byte[] buf = new byte[4096];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        client.receive(p);
        return java.util.Arrays.copyOf(buf, p.getLength());
    }

    private Message ask(String name, int type) throws IOException {
        Message q = Message.newQuery(Record.newRecord(Name.fromString(name + "."), type, DClass.IN));
        Message a = new Message(exchange(q.toWire()));
        assertThat(a.getHeader().getID()).isEqualTo(q.getHeader().getID());
        assertThat(a.getHeader().getFlag(Flags.QR)).isTrue();
        return a;
    }

    @Test
    void namesOutsideThePolicyGetNxdomainAndAreReported() throws IOException {
        assertThat(ask("other.test", Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
        assertThat(ask("wild.test", Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
        assertThat(ask("x.allowed.test", Type.TXT).getRcode()).isEqualTo(Rcode.NXDOMAIN);
        assertThat(denials).extracting(Denial::target).contains("other.test", "wild.test", "x.allowed.test");
        assertThat(denials).allMatch(d -> d.sandboxId().equals("sbx-1") && d.kind() == Denial.Kind.DNS);
    }

    @Test
    void allowedNamesAreAskedUpstreamAndIpv6GetsAnEmptyAnswer() throws IOException {
        assertThat(ask("allowed.test", Type.A).getRcode()).isEqualTo(Rcode.SERVFAIL);   // the upstream is a closed port
        Message aaaa = ask("api.wild.test", Type.AAAA);
        assertThat(aaaa.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(aaaa.getSection(Section.ANSWER)).isEmpty();
        assertThat(ask("allowed.test", Type.AXFR).getRcode()).isEqualTo(Rcode.NOTIMP);
    }

    @Test
    void aPolicyChangeAppliesToTheNextQuestion() throws IOException {
        assertThat(ask("other.test", Type.AAAA).getRcode()).isEqualTo(Rcode.NXDOMAIN);
        lease = new Lease("sbx-1", NetworkPolicy.open());
        assertThat(ask("other.test", Type.AAAA).getRcode()).isEqualTo(Rcode.NOERROR);
        lease = null;   // the sandbox is gone: its address is nobody's
        assertThat(ask("other.test", Type.AAAA).getRcode()).isEqualTo(Rcode.REFUSED);
    }

    @Test
    void hostileDatagramsAreDroppedOrRefusedAndTheServerKeepsServing() throws IOException {
        Random r = new Random(1);
        // not DNS at all: too short to answer
        client.send(new DatagramPacket(new byte[3], 3));
        // a response, not a query: never answered (no reflection)
        Message q = Message.newQuery(Record.newRecord(Name.fromString("allowed.test."), Type.A, DClass.IN));
        q.getHeader().setFlag(Flags.QR);
        byte[] resp = q.toWire();
        client.send(new DatagramPacket(resp, resp.length));
        for (int i = 0; i < 2000; i++) {
            byte[] junk = new byte[12 + r.nextInt(300)];
            r.nextBytes(junk);
            junk[2] &= 0x7f;   // looks like a query
            client.send(new DatagramPacket(junk, junk.length));
        }
        // drain whatever came back (FORMERR and the like), then check the server still answers
        try {
            while (true) {
                byte[] buf = new byte[4096];
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                client.setSoTimeout(300);
                client.receive(p);
            }
        } catch (SocketTimeoutException e) {
            client.setSoTimeout(3000);
        }
        Message twoQuestions = Message.newQuery(Record.newRecord(Name.fromString("allowed.test."), Type.A, DClass.IN));
        twoQuestions.addRecord(Record.newRecord(Name.fromString("other.test."), Type.A, DClass.IN), Section.QUESTION);
        assertThat(new Message(exchange(twoQuestions.toWire())).getRcode()).isEqualTo(Rcode.FORMERR);
        assertThat(ask("other.test", Type.A).getRcode()).isEqualTo(Rcode.NXDOMAIN);
    }
}
