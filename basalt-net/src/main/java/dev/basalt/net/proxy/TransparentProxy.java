package dev.basalt.net.proxy;

import dev.basalt.net.Denial;
import dev.basalt.net.DenialListener;
import dev.basalt.net.Lease;
import dev.basalt.net.EgressCheck;
import dev.basalt.net.host.Closing;
import dev.basalt.net.host.NetNamespace;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host-side transparent proxy for sandboxes whose policy has domain rules: nftables redirects
 * their TCP to ports 80 and 443 here (two listeners, so the original port is known without
 * asking conntrack). For each connection, on a virtual thread of its own, it finds the sandbox by
 * the source address, reads the TLS ClientHello's SNI or the HTTP request's Host (within
 * {@value #HEAD_TIMEOUT_MS} ms and {@link ClientHello#MAX_BYTES} bytes), lets the {@link Dialer}
 * connect by name, replays the bytes it read and splices the two connections.
 *
 * <p>A refused connection gets a clear answer the guest's client prints: an HTTP 403 whose body
 * names the host and the reason, or a TLS {@code access_denied} alert; it is logged with the
 * sandbox id and reported to the {@link DenialListener}. At most {@value #MAX_PER_SANDBOX}
 * connections per sandbox are open at once.
 */
public final class TransparentProxy implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TransparentProxy.class);
    static final int HEAD_TIMEOUT_MS = 10_000;
    static final int MAX_PER_SANDBOX = 512;
    private static final byte[] TLS_ACCESS_DENIED = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 49};
    private static final byte[] TLS_DECODE_ERROR = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 50};

    private final ServerSocketChannel http;
    private final ServerSocketChannel tls;
    private final Lease.Directory leases;
    private final Dialer dialer;
    private final DenialListener denials;
    private final Map<String, Semaphore> perSandbox = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private TransparentProxy(ServerSocketChannel http, ServerSocketChannel tls, Lease.Directory leases, Dialer dialer, DenialListener denials) {
        this.http = http;
        this.tls = tls;
        this.leases = leases;
        this.dialer = dialer;
        this.denials = denials;
    }

    /** Binds both listeners on free ports of all addresses of {@code ns} (nftables lets only slots reach them). */
    public static TransparentProxy start(NetNamespace ns, Lease.Directory leases, Dialer dialer, DenialListener denials) throws IOException {
        ServerSocketChannel http = ns.openServer();
        ServerSocketChannel tls = null;
        try {
            http.bind(new InetSocketAddress("0.0.0.0", 0), 512);
            tls = ns.openServer();
            tls.bind(new InetSocketAddress("0.0.0.0", 0), 512);
        } catch (IOException | RuntimeException e) {
            http.close();
            if (tls != null) {
                tls.close();
            }
            throw e;
        }
        TransparentProxy p = new TransparentProxy(http, tls, leases, dialer, denials);
        Thread.ofVirtual().name("proxy-http").start(() -> p.accept(http, false));
        Thread.ofVirtual().name("proxy-tls").start(() -> p.accept(p.tls, true));
        return p;
    }

    /** Drops what the proxy keeps about a sandbox that is gone (its connection count). */
    public void forget(String sandboxId) {
        perSandbox.remove(sandboxId);
    }

    public int httpPort() {
        return http.socket().getLocalPort();
    }

    public int tlsPort() {
        return tls.socket().getLocalPort();
    }

    private void accept(ServerSocketChannel listener, boolean isTls) {
        while (!closed) {
            SocketChannel c;
            try {
                c = listener.accept();
            } catch (IOException e) {
                if (!closed) {
                    log.warn("proxy: accept failed: {}", e.toString());
                }
                return;
            }
            Thread.ofVirtual().start(() -> handle(c.socket(), isTls));
        }
    }

    private void handle(Socket client, boolean isTls) {
        int port = isTls ? 443 : 80;
        Lease lease = null;
        Semaphore slots = null;
        try {
            client.setTcpNoDelay(true);
            lease = client.getInetAddress() instanceof Inet4Address a ? leases.bySource(EgressCheck.ipv4(a.getAddress())) : null;
            if (lease == null) {
                Splice.closeQuietly(client);   // not from a sandbox (nftables should have stopped it)
                return;
            }
            slots = perSandbox.computeIfAbsent(lease.sandboxId(), k -> new Semaphore(MAX_PER_SANDBOX));
            if (!slots.tryAcquire()) {
                slots = null;
                refuse(client, isTls, lease, "(any)", "more than " + MAX_PER_SANDBOX + " open proxied connections", false);
                return;
            }
            byte[] buf = new byte[isTls ? ClientHello.MAX_BYTES : HttpHead.MAX_BYTES];
            int len = 0;
            Sniffed s = Sniffed.INCOMPLETE;
            client.setSoTimeout(HEAD_TIMEOUT_MS);
            InputStream in = client.getInputStream();
            while (s instanceof Sniffed.Incomplete && len < buf.length) {
                int n = in.read(buf, len, buf.length - len);
                if (n < 0) {
                    break;
                }
                len += n;
                s = isTls ? ClientHello.serverName(buf, len) : HttpHead.host(buf, len);
            }
            client.setSoTimeout(0);
            switch (s) {
                case Sniffed.Host h -> {
                    if (connect(client, isTls, lease, h.name(), port, Arrays.copyOf(buf, len), slots::release)) {
                        slots = null;   // the splice releases it
                    }
                }
                case Sniffed.NoHost n -> refuse(client, isTls, lease, "(no server name)", "a TLS connection without SNI: only names can be allowed", true);
                case Sniffed.Malformed m -> refuse(client, isTls, lease, "(unreadable)", m.reason(), true);
                case Sniffed.Incomplete i -> Splice.closeQuietly(client);   // the guest gave up before its request was complete
            }
        } catch (SocketTimeoutException e) {
            Splice.closeQuietly(client);
        } catch (IOException e) {
            log.debug("proxy connection of {} failed: {}", lease == null ? client.getInetAddress() : lease.sandboxId(), e.toString());
            Splice.closeQuietly(client);
        } finally {
            if (slots != null) {
                slots.release();
            }
        }
    }

    /** True if the connection was spliced (then {@code done} runs when it ends). */
    private boolean connect(Socket client, boolean isTls, Lease lease, String host, int port, byte[] head, Runnable done) throws IOException {
        SocketChannel upstream;
        try {
            upstream = dialer.dial(lease.policy(), host, port);
        } catch (Dialer.Refused r) {
            refuse(client, isTls, lease, host, r.getMessage(), false);
            return false;
        } catch (IOException e) {
            log.info("sandbox {}: {}:{} unreachable: {}", lease.sandboxId(), host, port, e.getMessage());
            if (!isTls) {
                respond(client, "502 Bad Gateway", "basalt: cannot reach " + host + ":" + port + ": " + e.getMessage());
            }
            Splice.closeQuietly(client);
            return false;
        }
        Socket server = upstream.socket();
        try {
            OutputStream out = server.getOutputStream();
            out.write(head);
            out.flush();
        } catch (IOException e) {
            Splice.closeQuietly(server);
            throw e;
        }
        Splice.start(client, server, "proxy-" + lease.sandboxId() + "-" + host, done);
        return true;
    }

    private void refuse(Socket client, boolean isTls, Lease lease, String target, String reason, boolean malformed) {
        log.info("sandbox {}: connection to {} ({}) denied: {}", lease.sandboxId(), target, isTls ? "TLS" : "HTTP", reason);
        denials.denied(new Denial(lease.sandboxId(), Denial.Kind.CONNECTION, target, reason));
        try {
            if (isTls) {
                client.getOutputStream().write(malformed ? TLS_DECODE_ERROR : TLS_ACCESS_DENIED);
            } else {
                respond(client, malformed ? "400 Bad Request" : "403 Forbidden", "basalt: egress to " + target + " denied: " + reason);
            }
        } catch (IOException e) {
            // the guest is gone already
        }
        Splice.closeQuietly(client);
    }

    private static void respond(Socket client, String status, String text) {
        byte[] body = (text + "\n").getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " + body.length
                + "\r\nConnection: close\r\n\r\n";
        try {
            OutputStream out = client.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
        } catch (IOException e) {
            // the guest is gone already
        }
    }

    @Override
    public void close() {
        closed = true;
        Closing.quietly(http);
        Closing.quietly(tls);
    }
}
