package dev.basalt.server;

import dev.basalt.api.BasaltException;
import dev.basalt.api.Sandboxes;
import dev.basalt.grpc.v1.SandboxServiceGrpc;
import dev.basalt.grpc.v1.SnapshotServiceGrpc;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gRPC server of basaltd: the sandbox and snapshot services over a {@link Sandboxes} port, plus
 * gRPC health checking and server reflection. Built from an injected {@link ServerBuilder}, so tests
 * run it in-process and production on a unix socket ({@link #onUnixSocket}) or TCP ({@link #onTcp}).
 * Closing it stops the server; the port (the manager) belongs to the caller.
 */
public final class BasaltServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BasaltServer.class);
    /** Largest message a client may send; uploads and stdin come in chunks of at most 1 MiB. */
    public static final int MAX_INBOUND_MESSAGE_BYTES = 4 << 20;

    private final Server server;
    private final HealthStatusManager health = new HealthStatusManager();
    private final List<Runnable> afterClose = new ArrayList<>();
    private final String address;

    /** A server over {@code sandboxes} built from {@code builder}, not started yet. */
    public BasaltServer(ServerBuilder<?> builder, Sandboxes sandboxes) {
        this(builder, sandboxes, ServerOptions.defaults());
    }

    /**
     * A server over {@code sandboxes} built from {@code builder} with {@code options}: metrics if set,
     * and the bearer-token check if a token file is set (TLS is the builder's business: see {@link #onTcp}).
     */
    public BasaltServer(ServerBuilder<?> builder, Sandboxes sandboxes, ServerOptions options) {
        this(builder, sandboxes, options, "(injected)");
    }

    private BasaltServer(ServerBuilder<?> builder, Sandboxes sandboxes, ServerOptions options, String address) {
        Objects.requireNonNull(sandboxes, "sandboxes");
        Objects.requireNonNull(options, "options");
        this.address = address;
        Sandboxes served = sandboxes;
        if (options.tokenFile() != null) {
            builder.intercept(BearerTokenInterceptor.fromFile(options.tokenFile()));
        }
        if (options.metrics() != null) {
            served = options.metrics().instrument(sandboxes);
            builder.intercept(options.metrics().interceptor());     // added last, runs first: counts refusals too
        }
        if (options.images() != null) {
            builder.addService(new ImageService(options.images()));
        }
        this.server = builder
                .addService(new SandboxService(served))
                .addService(new SnapshotService(served))
                .addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance())
                .maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES)
                .directExecutor()            // the services hand every blocking step to a virtual thread of their own
                .build();
    }

    /**
     * A server on the unix socket {@code socket} (epoll). The parent directory is created; a stale
     * socket file left by a dead daemon is replaced; the socket is made mode 0660 so that only its
     * owner and group may connect.
     *
     * @throws BasaltException.AlreadyExists if another daemon answers on that socket
     */
    public static BasaltServer onUnixSocket(Path socket, Sandboxes sandboxes) {
        return onUnixSocket(socket, sandboxes, ServerOptions.defaults());
    }

    /**
     * Like {@link #onUnixSocket(Path, Sandboxes)} with {@code options}' metrics. TLS and the token do not
     * apply: the socket's file permissions decide who may connect.
     */
    public static BasaltServer onUnixSocket(Path socket, Sandboxes sandboxes, ServerOptions options) {
        prepareSocketPath(socket);
        EventLoopGroup boss = new EpollEventLoopGroup(1);
        EventLoopGroup workers = new EpollEventLoopGroup();
        var builder = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollServerDomainSocketChannel.class)
                .bossEventLoopGroup(boss).workerEventLoopGroup(workers)
                .withChildOption(ChannelOption.SO_KEEPALIVE, null);      // TCP only: a unix socket warns about it per connection
        BasaltServer server = new BasaltServer(builder, sandboxes, options.withTls(null, null).withTokenFile(null),
                "unix://" + socket);
        server.afterClose.add(() -> {
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        });
        server.afterStart = () -> {
            try {
                Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot restrict the permissions of " + socket, e);
            }
        };
        server.afterClose.add(() -> {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException e) {
                log.warn("cannot delete the socket {}: {}", socket, e.toString());
            }
        });
        return server;
    }

    /**
     * A plaintext, unauthenticated TCP server on {@code host:port} (port 0: any free port, see
     * {@link #port()}): for tests and benchmarks only, so only on a loopback address.
     *
     * @throws BasaltException.InvalidArgument for a host that is not a loopback address
     */
    public static BasaltServer onTcp(String host, int port, Sandboxes sandboxes) {
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.getAddress() == null || !address.getAddress().isLoopbackAddress()) {
            throw new BasaltException.InvalidArgument("plaintext TCP is allowed on loopback only, not on " + host
                    + ": give a TLS certificate, key and token file");
        }
        return new BasaltServer(NettyServerBuilder.forAddress(address), sandboxes, ServerOptions.defaults(),
                "tcp://" + host + ":" + port);
    }

    /**
     * A TCP server on {@code host:port} that speaks only TLS (with {@code options}' certificate chain and
     * private key) and refuses every call without {@code options}' bearer token; plus its metrics.
     *
     * @throws BasaltException.InvalidArgument if the options lack TLS or the token, or the files cannot be read
     */
    public static BasaltServer onTcp(String host, int port, Sandboxes sandboxes, ServerOptions options) {
        if (!options.tls() || options.tokenFile() == null) {
            throw new BasaltException.InvalidArgument("TCP needs TLS and a bearer token: give a certificate chain, "
                    + "a private key and a token file (--tls-cert, --tls-key, --token-file)");
        }
        NettyServerBuilder builder;
        try {
            ServerCredentials tls = TlsServerCredentials.create(options.certChain().toFile(), options.privateKey().toFile());
            builder = NettyServerBuilder.forAddress(new InetSocketAddress(host, port), tls);
        } catch (IOException | IllegalArgumentException e) {
            throw new BasaltException.InvalidArgument("cannot load the TLS certificate " + options.certChain()
                    + " and key " + options.privateKey() + " (PEM, the key in PKCS#8): " + e.getMessage(), e);
        }
        return new BasaltServer(builder, sandboxes, options, "tls://" + host + ":" + port);
    }

    private Runnable afterStart = () -> { };

    /** Starts listening and reports SERVING on the health service. */
    public BasaltServer start() {
        try {
            server.start();
        } catch (IOException e) {
            throw new BasaltException.Unavailable("basaltd cannot listen on " + address + ": " + e.getMessage(), e);
        }
        afterStart.run();
        health.setStatus("", ServingStatus.SERVING);
        health.setStatus(SandboxServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
        health.setStatus(SnapshotServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
        log.info("basaltd listening on {}", address + (server.getPort() > 0 ? " (port " + server.getPort() + ")" : ""));
        return this;
    }

    /** Where it listens: {@code unix:///path}, {@code tcp://host:port} or {@code tls://host:port}. */
    public String address() {
        return address + (server.getPort() > 0 && address.endsWith(":0") ? " (port " + server.getPort() + ")" : "");
    }

    /** The TCP port listened on, or -1 for other transports. */
    public int port() {
        return server.getPort();
    }

    /** Blocks until the server has shut down. */
    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    /** Reports NOT_SERVING, stops accepting calls, waits up to 5 s for running calls, then cancels them. */
    @Override
    public void close() {
        health.enterTerminalState();
        server.shutdown();
        try {
            if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
                server.shutdownNow();
                server.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
        afterClose.forEach(Runnable::run);
    }

    private static void prepareSocketPath(Path socket) {
        try {
            Files.createDirectories(socket.toAbsolutePath().getParent());
            if (Files.exists(socket)) {
                try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                    probe.connect(UnixDomainSocketAddress.of(socket));
                    throw new BasaltException.AlreadyExists("another basaltd is listening on " + socket
                            + ": stop it first or choose another --socket");
                } catch (IOException stale) {
                    Files.delete(socket);           // nobody answers: left by a dead daemon
                }
            }
        } catch (IOException e) {
            throw new BasaltException.Unavailable("cannot prepare the socket " + socket + ": " + e.getMessage(), e);
        }
    }
}
