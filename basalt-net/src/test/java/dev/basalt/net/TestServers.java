package dev.basalt.net;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.basalt.net.host.NetNamespace;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Executors;

/** HTTP, HTTPS and TCP echo servers of a test's internet, made inside a namespace. */
public final class TestServers {
    public static final String[] TLS_NAMES = {"allowed.test", "other.test", "*.wild.test", "rebind.test"};

    private TestServers() {}

    /** An HTTP server answering "hello from HOST via ADDRESS". */
    public static AutoCloseable http(NetNamespace ns, String ip, int port) throws IOException {
        HttpServer s = ns.inside(() -> HttpServer.create(new InetSocketAddress(ip, port), 64));
        serve(s, ip);
        return () -> s.stop(0);
    }

    /**
     * An HTTPS server ({@code openssl s_server -WWW}, run in {@code ns}) with a certificate for
     * {@link #TLS_NAMES}, serving {@code /index.html} = "hello via IP over TLS". OpenSSL rather than
     * the JDK because the test guest's client is busybox's built-in TLS, which sends no
     * signature_algorithms extension: the server must accept SHA-1 handshake signatures
     * ({@code SECLEVEL=0}), and the JDK's server then still failed the handshake.
     */
    public static AutoCloseable https(NetNamespace ns, String ip, Path dir) throws Exception {
        Path cert = certificate(dir);
        Path root = java.nio.file.Files.createDirectories(dir.resolve("www-" + ip));
        java.nio.file.Files.writeString(root.resolve("index.html"), "hello via " + ip + " over TLS\n");
        List<String> cmd = new java.util.ArrayList<>(ns.exec("openssl", "s_server", "-quiet", "-WWW", "-accept", ip + ":443",
                "-cert", cert.toString(), "-key", dir.resolve("key.pem").toString(), "-cipher", "DEFAULT@SECLEVEL=0"));
        Process p = new ProcessBuilder(cmd).directory(root.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("s_server-" + ip + ".log").toFile()).start();
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {   // listening when a connect succeeds
            try (Socket probe = ns.inside(() -> java.nio.channels.SocketChannel.open().socket())) {
                probe.connect(new InetSocketAddress(ip, 443), 200);
                break;
            } catch (IOException e) {
                if (!p.isAlive()) {
                    throw new IOException("openssl s_server exited: " + java.nio.file.Files.readString(dir.resolve("s_server-" + ip + ".log")));
                }
                Thread.sleep(20);
            }
        }
        return () -> {
            p.destroy();
            p.waitFor();
        };
    }

    private static void serve(HttpServer s, String ip) {
        s.createContext("/", (HttpExchange e) -> {
            byte[] body = ("hello from " + e.getRequestHeaders().getFirst("Host") + " via " + ip + "\n").getBytes(StandardCharsets.UTF_8);
            if (e.getRequestURI().getPath().startsWith("/big")) {
                body = new byte[8 * 1024 * 1024];
            }
            e.sendResponseHeaders(200, body.length);
            try (OutputStream out = e.getResponseBody()) {
                out.write(body);
            }
        });
        s.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        s.start();
    }

    /** What a {@link #sink} received: total bytes and the time from the first connection to the last byte. */
    public static final class Sink implements AutoCloseable {
        private final ServerSocket server;
        private final java.util.concurrent.atomic.AtomicLong bytes = new java.util.concurrent.atomic.AtomicLong();
        private volatile long firstNanos;
        private volatile long lastNanos;

        private Sink(ServerSocket server) {
            this.server = server;
        }

        public long bytes() {
            return bytes.get();
        }

        /** Seconds from the first accepted connection to the last byte read. */
        public double seconds() {
            return (lastNanos - firstNanos) / 1e9;
        }

        public void reset() {
            bytes.set(0);
            firstNanos = 0;
            lastNanos = 0;
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    /** A TCP server in {@code ns} that reads and counts everything sent to it. */
    public static Sink sink(NetNamespace ns, String ip, int port) throws IOException {
        Sink sink = new Sink(ns.inside(() -> {
            var ch = java.nio.channels.ServerSocketChannel.open();
            ch.bind(new InetSocketAddress(ip, port));
            return ch.socket();
        }));
        Thread.ofVirtual().start(() -> {
            while (!sink.server.isClosed()) {
                try {
                    Socket c = sink.server.accept();
                    if (sink.firstNanos == 0) {
                        sink.firstNanos = System.nanoTime();
                    }
                    Thread.ofVirtual().start(() -> {
                        byte[] buf = new byte[256 * 1024];
                        try (c; InputStream in = c.getInputStream()) {
                            for (int n; (n = in.read(buf)) >= 0; ) {
                                sink.bytes.addAndGet(n);
                                sink.lastNanos = System.nanoTime();
                            }
                        } catch (IOException e) {
                            // client gone
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
        return sink;
    }

    /** A TCP server that writes "echo:" and then echoes what it reads. */
    public static AutoCloseable echo(NetNamespace ns, String ip, int port) throws IOException {
        ServerSocket server = ns.inside(() -> {
            var ch = java.nio.channels.ServerSocketChannel.open();
            ch.bind(new InetSocketAddress(ip, port));
            return ch.socket();
        });
        Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try {
                    Socket c = server.accept();
                    Thread.ofVirtual().start(() -> {
                        try (c) {
                            OutputStream out = c.getOutputStream();
                            out.write("echo:".getBytes(StandardCharsets.US_ASCII));
                            InputStream in = c.getInputStream();
                            in.transferTo(out);
                        } catch (IOException e) {
                            // client gone
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
        return server::close;
    }

    /** A self-signed certificate ({@code cert.pem}, {@code key.pem}) for {@link #TLS_NAMES}, made once per directory. */
    public static Path certificate(Path dir) throws IOException, InterruptedException {
        Path key = dir.resolve("key.pem");
        Path cert = dir.resolve("cert.pem");
        if (!java.nio.file.Files.exists(cert)) {
            StringBuilder san = new StringBuilder("subjectAltName=");
            for (int i = 0; i < TLS_NAMES.length; i++) {
                san.append(i == 0 ? "" : ",").append("DNS:").append(TLS_NAMES[i]);
            }
            run(List.of("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-keyout", key.toString(), "-out", cert.toString(), "-subj", "/CN=allowed.test", "-addext", san.toString()));
        }
        return cert;
    }

    private static void run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(cmd + ": " + out);
        }
    }
}
