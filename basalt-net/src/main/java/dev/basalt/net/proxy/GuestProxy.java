package dev.basalt.net.proxy;

import dev.basalt.api.NetworkPolicy;
import dev.basalt.net.Denial;
import dev.basalt.net.DenialListener;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host side of {@code --net proxy}: a sandbox without a NIC whose programs use an HTTP proxy
 * endpoint inside the guest ({@code HTTP_PROXY}), each connection of which reaches the host as a
 * pair of streams (a tunnel over the agent channel). This reads the proxy request
 * ({@link ProxyRequest}: {@code CONNECT} or an absolute {@code http://} request), lets the
 * {@link Dialer} decide and connect by name under the sandbox's current policy, answers, and
 * splices. A refusal is a 403 naming the host and the reason, counted and logged with the sandbox
 * id. Thread-safe; each {@link #serve} runs on the caller's (virtual) thread.
 */
public final class GuestProxy {
    private static final Logger log = LoggerFactory.getLogger(GuestProxy.class);
    private final Dialer dialer;
    private final DenialListener denials;

    public GuestProxy(Dialer dialer, DenialListener denials) {
        this.dialer = dialer;
        this.denials = denials;
    }

    /**
     * Serves one proxied connection of sandbox {@code sandboxId}: reads its request from
     * {@code in}, answers on {@code out}. {@code halfClose} ends the guest-bound direction,
     * {@code close} the whole connection; both are called by the time the connection is over.
     */
    public void serve(String sandboxId, Supplier<NetworkPolicy> policy, InputStream in, OutputStream out,
                      Runnable halfClose, Runnable close) {
        try {
            byte[] buf = new byte[HttpHead.MAX_BYTES];
            int len = 0;
            ProxyRequest r = new ProxyRequest.Incomplete();
            while (r instanceof ProxyRequest.Incomplete && len < buf.length) {
                int n = in.read(buf, len, buf.length - len);
                if (n < 0) {
                    close.run();
                    return;
                }
                len += n;
                r = ProxyRequest.parse(buf, len);
            }
            String host;
            int port;
            byte[] first;
            switch (r) {
                case ProxyRequest.Connect c -> {
                    host = c.host();
                    port = c.port();
                    first = Arrays.copyOfRange(buf, c.headLength(), len);
                }
                case ProxyRequest.Forward f -> {
                    host = f.host();
                    port = f.port();
                    byte[] rest = Arrays.copyOfRange(buf, f.headLength(), len);
                    first = new byte[f.head().length + rest.length];
                    System.arraycopy(f.head(), 0, first, 0, f.head().length);
                    System.arraycopy(rest, 0, first, f.head().length, rest.length);
                }
                case ProxyRequest.Malformed m -> {
                    refuse(sandboxId, out, "400 Bad Request", "(unreadable)", m.reason(), close);
                    return;
                }
                case ProxyRequest.Incomplete i -> {
                    close.run();
                    return;
                }
            }
            SocketChannel upstream;
            try {
                upstream = dialer.dial(policy.get(), host, port);
            } catch (Dialer.Refused e) {
                refuse(sandboxId, out, "403 Forbidden", host + ":" + port, e.getMessage(), close);
                return;
            } catch (IOException e) {
                log.info("sandbox {}: {}:{} unreachable through the proxy: {}", sandboxId, host, port, e.getMessage());
                answer(out, "502 Bad Gateway", "basalt: cannot reach " + host + ":" + port + ": " + e.getMessage());
                close.run();
                return;
            }
            Socket server = upstream.socket();
            if (r instanceof ProxyRequest.Connect) {
                out.write("HTTP/1.1 200 Connection established\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            server.getOutputStream().write(first);
            Splice.streams(in, server.getOutputStream(), server::shutdownOutput, server.getInputStream(), out, halfClose,
                    () -> {
                        Splice.closeQuietly(server);
                        close.run();
                    }, "guest-proxy-" + sandboxId + "-" + host);
        } catch (IOException e) {
            log.debug("sandbox {}: proxied connection failed: {}", sandboxId, e.toString());
            close.run();
        }
    }

    private void refuse(String sandboxId, OutputStream out, String status, String target, String reason, Runnable close) {
        log.info("sandbox {}: proxy request for {} denied: {}", sandboxId, target, reason);
        denials.denied(new Denial(sandboxId, Denial.Kind.CONNECTION, target, reason));
        answer(out, status, "basalt: egress to " + target + " denied: " + reason);
        close.run();
    }

    private static void answer(OutputStream out, String status, String text) {
        byte[] body = (text + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            out.write(("HTTP/1.1 " + status + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " + body.length
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
        } catch (IOException e) {
            // the guest is gone
        }
    }
}
