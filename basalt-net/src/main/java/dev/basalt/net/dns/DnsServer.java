package dev.basalt.net.dns;

import dev.basalt.net.Decision;
import dev.basalt.net.Denial;
import dev.basalt.net.DenialListener;
import dev.basalt.net.EgressCheck;
import dev.basalt.net.Lease;
import dev.basalt.net.host.Closing;
import dev.basalt.net.host.NetNamespace;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * The resolver sandboxes see (their gateway, port 53, redirected here by nftables): it answers
 * only names the sandbox's current policy allows, with only addresses the policy allows, and
 * {@code NXDOMAIN} for the rest, so a denied name fails at once in the guest. IPv6 questions get
 * an empty answer (guests have IPv4 only) so that clients fall back to IPv4 without waiting.
 * Queries come over UDP and TCP on the same port; each is answered on a virtual thread, at most
 * {@value #MAX_IN_FLIGHT} at once (more are dropped, as a busy resolver would).
 *
 * <p>Hostile input: a datagram that is not a DNS query, has no or several questions, or comes from
 * an address no sandbox holds is dropped or answered {@code FORMERR}/{@code REFUSED}; nothing a
 * guest sends can make it ask upstream for a name the policy does not allow.
 */
public final class DnsServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DnsServer.class);
    static final int MAX_IN_FLIGHT = 256;
    private static final int ANSWER_TTL_CAP = 60;
    private static final Set<Integer> EMPTY_TYPES = Set.of(Type.AAAA, Type.HTTPS, Type.SVCB);
    private static final Set<Integer> FORWARDED_TYPES = Set.of(Type.CNAME, Type.TXT, Type.MX, Type.SRV, Type.CAA);

    private final DatagramChannel udp;
    private final ServerSocketChannel tcp;
    private final Upstream upstream;
    private final EgressCheck check;
    private final Lease.Directory leases;
    private final DenialListener denials;
    private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
    private volatile boolean closed;

    private DnsServer(DatagramChannel udp, ServerSocketChannel tcp, Upstream upstream, EgressCheck check, Lease.Directory leases,
                      DenialListener denials) {
        this.udp = udp;
        this.tcp = tcp;
        this.upstream = upstream;
        this.check = check;
        this.leases = leases;
        this.denials = denials;
    }

    /** Binds UDP and TCP on one free port of all addresses of {@code ns} and starts serving. */
    public static DnsServer start(NetNamespace ns, Upstream upstream, EgressCheck check, Lease.Directory leases, DenialListener denials)
            throws IOException {
        for (int attempt = 0; ; attempt++) {
            DatagramChannel udp = ns.openUdp();
            try {
                udp.bind(new InetSocketAddress("0.0.0.0", 0));
                int port = ((InetSocketAddress) udp.getLocalAddress()).getPort();
                ServerSocketChannel tcp = ns.openServer();
                try {
                    tcp.bind(new InetSocketAddress("0.0.0.0", port), 64);
                } catch (IOException busy) {
                    tcp.close();
                    if (attempt < 10) {
                        udp.close();
                        continue;
                    }
                    throw busy;
                }
                DnsServer s = new DnsServer(udp, tcp, upstream, check, leases, denials);
                Thread.ofPlatform().daemon().name("dns-udp-" + port).start(s::serveUdp);
                Thread.ofVirtual().name("dns-tcp-" + port).start(s::serveTcp);
                return s;
            } catch (IOException | RuntimeException e) {
                udp.close();
                throw e;
            }
        }
    }

    /** The port both listeners are bound to. */
    public int port() {
        return udp.socket().getLocalPort();
    }

    private void serveUdp() {
        ByteBuffer buf = ByteBuffer.allocate(4096);
        while (!closed) {
            InetSocketAddress from;
            try {
                buf.clear();
                from = (InetSocketAddress) udp.receive(buf);
            } catch (IOException e) {
                if (!closed) {
                    log.warn("DNS server: receive failed: {}", e.toString());
                }
                return;
            }
            buf.flip();
            byte[] packet = new byte[buf.remaining()];
            buf.get(packet);
            if (!inFlight.tryAcquire()) {
                continue;   // overloaded: drop, the guest retries
            }
            Thread.ofVirtual().start(() -> {
                try {
                    byte[] reply = answer(packet, from, true);
                    if (reply != null) {
                        udp.send(ByteBuffer.wrap(reply), from);
                    }
                } catch (IOException e) {
                    log.debug("DNS reply to {} failed: {}", from, e.toString());
                } finally {
                    inFlight.release();
                }
            });
        }
    }

    private void serveTcp() {
        while (!closed) {
            SocketChannel c;
            try {
                c = tcp.accept();
            } catch (IOException e) {
                if (!closed) {
                    log.warn("DNS server: accept failed: {}", e.toString());
                }
                return;
            }
            if (!inFlight.tryAcquire()) {
                Closing.quietly(c);
                continue;
            }
            Thread.ofVirtual().start(() -> {
                try (c) {
                    Socket s = c.socket();
                    s.setSoTimeout(10_000);
                    InetSocketAddress from = (InetSocketAddress) c.getRemoteAddress();
                    DataInputStream in = new DataInputStream(s.getInputStream());
                    DataOutputStream out = new DataOutputStream(s.getOutputStream());
                    for (int i = 0; i < 16; i++) {   // a few pipelined queries per connection
                        int len = in.readUnsignedShort();
                        byte[] q = new byte[len];
                        in.readFully(q);
                        byte[] reply = answer(q, from, false);
                        if (reply == null) {
                            return;
                        }
                        out.writeShort(reply.length);
                        out.write(reply);
                        out.flush();
                    }
                } catch (IOException e) {
                    // end of the client's queries, a timeout or a reset: nothing to do
                } finally {
                    inFlight.release();
                }
            });
        }
    }

    /** The reply to one query from {@code from}, or null to drop it. */
    byte[] answer(byte[] packet, InetSocketAddress from, boolean udpTransport) {
        Message query;
        try {
            query = new Message(packet);
        } catch (IOException | RuntimeException e) {
            return packet.length >= 12 ? formerr(packet) : null;
        }
        if (query.getHeader().getFlag(Flags.QR)) {
            return null;   // a response, not a query: never answer it (no reflection loops)
        }
        Message reply = new Message(query.getHeader().getID());
        reply.getHeader().setFlag(Flags.QR);
        reply.getHeader().setFlag(Flags.RA);
        if (query.getHeader().getFlag(Flags.RD)) {
            reply.getHeader().setFlag(Flags.RD);
        }
        List<Record> questions = query.getSection(Section.QUESTION);
        if (query.getHeader().getOpcode() != Opcode.QUERY || questions.size() != 1) {
            reply.getHeader().setRcode(query.getHeader().getOpcode() != Opcode.QUERY ? Rcode.NOTIMP : Rcode.FORMERR);
            return reply.toWire();
        }
        Record q = questions.getFirst();
        reply.addRecord(q, Section.QUESTION);
        int maxSize = udpTransport ? udpLimit(query) : 65535;
        Lease lease = from.getAddress() instanceof Inet4Address a ? leases.bySource(EgressCheck.ipv4(a.getAddress())) : null;
        if (lease == null) {
            reply.getHeader().setRcode(Rcode.REFUSED);
            return reply.toWire(maxSize);
        }
        String name = EgressCheck.normalize(q.getName().toString(true));
        Decision d = check.name(lease.policy(), name);
        if (!d.allowed()) {
            denied(lease, q.getName().toString(true), d.reason());
            reply.getHeader().setRcode(Rcode.NXDOMAIN);
            return reply.toWire(maxSize);
        }
        int type = q.getType();
        if (EMPTY_TYPES.contains(type)) {
            return reply.toWire(maxSize);   // NOERROR, no data
        }
        if (type != Type.A && !FORWARDED_TYPES.contains(type)) {
            reply.getHeader().setRcode(Rcode.NOTIMP);
            return reply.toWire(maxSize);
        }
        Message up;
        try {
            up = upstream.query(name, type);
        } catch (IOException e) {
            log.debug("DNS upstream failed for {}: {}", name, e.getMessage());
            reply.getHeader().setRcode(Rcode.SERVFAIL);
            return reply.toWire(maxSize);
        }
        reply.getHeader().setRcode(up.getRcode());
        int kept = 0;
        int refused = 0;
        String refusedReason = "";
        for (Record r : up.getSection(Section.ANSWER)) {
            long ttl = Math.min(r.getTTL(), ANSWER_TTL_CAP);
            if (r instanceof ARecord a) {
                Decision ad = check.address(lease.policy(), EgressCheck.ipv4(a.getAddress().getAddress()), true);
                if (!ad.allowed()) {
                    refused++;
                    refusedReason = ad.reason();
                    continue;
                }
                reply.addRecord(new ARecord(a.getName(), a.getDClass(), ttl, a.getAddress()), Section.ANSWER);
                kept++;
            } else if (r instanceof CNAMERecord c) {
                reply.addRecord(new CNAMERecord(c.getName(), c.getDClass(), ttl, c.getTarget()), Section.ANSWER);
            } else if (r.getType() == type) {
                reply.addRecord(r, Section.ANSWER);
            }
        }
        if (refused > 0 && kept == 0) {
            denied(lease, name, "it resolves only to refused addresses (" + refusedReason + ")");
        }
        return reply.toWire(maxSize);
    }

    private static int udpLimit(Message query) {
        OPTRecord opt = query.getOPT();
        return opt == null ? 512 : Math.max(512, Math.min(opt.getPayloadSize(), 4096));
    }

    private void denied(Lease lease, String target, String reason) {
        log.info("sandbox {}: DNS {} denied: {}", lease.sandboxId(), target, reason);
        denials.denied(new Denial(lease.sandboxId(), Denial.Kind.DNS, target, reason));
    }

    private static byte[] formerr(byte[] packet) {
        byte[] r = new byte[12];
        r[0] = packet[0];
        r[1] = packet[1];
        r[2] = (byte) 0x80;          // QR
        r[3] = (byte) Rcode.FORMERR;
        return (packet[2] & 0x80) != 0 ? null : r;
    }

    @Override
    public void close() {
        closed = true;
        Closing.quietly(udp);
        Closing.quietly(tcp);
    }
}
