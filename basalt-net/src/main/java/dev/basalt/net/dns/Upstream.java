package dev.basalt.net.dns;

import dev.basalt.net.host.NetNamespace;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SocketChannel;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * The host's view of DNS: asks the configured upstream resolvers (UDP, then TCP when the answer is
 * truncated), from sockets in the host namespace, with a fresh random id and source port per
 * query and answers checked against the question. Answers are cached for their TTL (at most
 * {@value #MAX_CACHE_SECONDS} s) so that a guest's lookup and the proxy's dial of the same name
 * cost one upstream query. Thread-safe.
 */
public final class Upstream {
    static final int MAX_CACHE_SECONDS = 60;
    private static final int CACHE_ENTRIES = 4096;
    private static final int TIMEOUT_MS = 2000;
    private final List<InetSocketAddress> servers;
    private final NetNamespace ns;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    private record Cached(Message response, long expiresNanos) {}

    public Upstream(List<InetSocketAddress> servers, NetNamespace ns) {
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("no upstream DNS server");
        }
        this.servers = List.copyOf(servers);
        this.ns = ns;
    }

    /** The upstream answer for {@code name} (absolute or not) and {@code type}; throws if no server answers. */
    public Message query(String name, int type) throws IOException {
        String key = name.toLowerCase() + "/" + type;
        Cached c = cache.get(key);
        if (c != null && c.expiresNanos() - System.nanoTime() > 0) {
            return c.response();
        }
        Name qname;
        try {
            qname = Name.fromString(name.endsWith(".") ? name : name + ".");
        } catch (TextParseException e) {
            throw new IOException("not a DNS name: " + name, e);
        }
        IOException last = null;
        for (InetSocketAddress server : servers) {
            try {
                Message answer = exchange(server, qname, type);
                if (cache.size() >= CACHE_ENTRIES) {
                    cache.clear();
                }
                cache.put(key, new Cached(answer, System.nanoTime() + ttlSeconds(answer) * 1_000_000_000L));
                return answer;
            } catch (IOException e) {
                last = e;
            }
        }
        throw new IOException("no DNS answer for " + name + " from " + servers + ": " + last.getMessage(), last);
    }

    /** The IPv4 addresses {@code name} resolves to (CNAMEs followed by the upstream), possibly none. */
    public List<Integer> resolveA(String name) throws IOException {
        Message m = query(name, Type.A);
        List<Integer> out = new ArrayList<>();
        if (m.getRcode() == Rcode.NOERROR) {
            for (Record r : m.getSection(Section.ANSWER)) {
                if (r instanceof ARecord a) {
                    out.add(dev.basalt.net.EgressCheck.ipv4(a.getAddress().getAddress()));
                }
            }
        }
        return out;
    }

    private static long ttlSeconds(Message m) {
        long ttl = MAX_CACHE_SECONDS;
        for (Record r : m.getSection(Section.ANSWER)) {
            ttl = Math.min(ttl, r.getTTL());
        }
        return m.getRcode() == Rcode.NOERROR && !m.getSection(Section.ANSWER).isEmpty() ? ttl : Math.min(ttl, 10);
    }

    private Message exchange(InetSocketAddress server, Name qname, int type) throws IOException {
        int id = random.nextInt(0x10000);
        Message query = Message.newQuery(Record.newRecord(qname, type, DClass.IN));
        query.getHeader().setID(id);
        byte[] wire = query.toWire();
        Message answer;
        try (DatagramChannel ch = ns.openUdp()) {
            DatagramSocket s = ch.socket();
            s.setSoTimeout(TIMEOUT_MS);
            s.connect(server);
            s.send(new DatagramPacket(wire, wire.length));
            byte[] buf = new byte[4096];
            while (true) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                s.receive(p);   // SocketTimeoutException (an IOException) after TIMEOUT_MS
                Message m = parse(buf, p.getLength());
                if (m != null && matches(m, id, qname, type)) {
                    answer = m;
                    break;
                }
            }
        }
        if (answer.getHeader().getFlag(Flags.TC)) {
            answer = exchangeTcp(server, wire, id, qname, type);
        }
        return answer;
    }

    private Message exchangeTcp(InetSocketAddress server, byte[] wire, int id, Name qname, int type) throws IOException {
        try (SocketChannel ch = ns.openTcp()) {
            Socket s = ch.socket();
            s.connect(server, TIMEOUT_MS);
            s.setSoTimeout(TIMEOUT_MS);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeShort(wire.length);
            out.write(wire);
            out.flush();
            DataInputStream in = new DataInputStream(s.getInputStream());
            byte[] buf = new byte[in.readUnsignedShort()];
            in.readFully(buf);
            Message m = parse(buf, buf.length);
            if (m == null || !matches(m, id, qname, type)) {
                throw new IOException("a TCP DNS answer from " + server + " does not match the question");
            }
            return m;
        }
    }

    private static Message parse(byte[] buf, int len) {
        try {
            return new Message(java.util.Arrays.copyOf(buf, len));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static boolean matches(Message m, int id, Name qname, int type) {
        Record q = m.getQuestion();
        return m.getHeader().getID() == id && m.getHeader().getFlag(Flags.QR) && q != null && q.getName().equals(qname) && q.getType() == type;
    }
}
