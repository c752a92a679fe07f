package dev.basalt.server;

import dev.basalt.api.BasaltException;
import dev.basalt.api.EventFilter;
import dev.basalt.api.SandboxSpec;
import dev.basalt.core.ManagerConfig;
import dev.basalt.core.PoolConfig;
import dev.basalt.core.SandboxManager;
import dev.basalt.e2b.ApiKeys;
import dev.basalt.e2b.E2bOptions;
import dev.basalt.e2b.E2bServer;
import dev.basalt.server.metrics.ServerMetrics;
import dev.basalt.vmm.Hypervisors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code basaltd}: one daemon-mode {@link SandboxManager} served over gRPC on a unix socket (and
 * optionally TCP) until SIGTERM/SIGINT. Its sandboxes outlive it: they are recorded in SQLite under
 * the state directory, their VMs keep running when basaltd stops or dies, and the next basaltd on
 * the same state directory takes them over.
 */
@Command(name = "basaltd", mixinStandardHelpOptions = true, version = "basaltd 0.1.0",
        description = "Serves Basalt's gRPC API (basalt.v1) over a unix socket.")
public final class Main implements Callable<Integer> {

    @Option(names = "--socket", paramLabel = "PATH",
            description = "unix socket to listen on (default: /run/basalt/basaltd.sock as root, else $XDG_RUNTIME_DIR/basalt/basaltd.sock)")
    Path socket;

    @Option(names = "--tcp", paramLabel = "HOST:PORT", description = "also listen on TCP: with TLS and a bearer token (--tls-cert, --tls-key, --token-file), or plaintext on loopback only")
    String tcp;

    @Option(names = "--images", paramLabel = "DIR", description = "guest images directory (default: $BASALT_IMAGES or ~/.cache/basalt/images)")
    Path images;

    @Option(names = "--run-dir", paramLabel = "DIR", description = "per-sandbox sockets and logs (default: /run/basalt/daemon as root)")
    Path runDir;

    @Option(names = "--state-dir", paramLabel = "DIR", description = "sandbox database and snapshot catalog (default: /var/lib/basalt as root, else ~/.local/share/basalt)")
    Path stateDir;

    @Option(names = "--max-sandboxes", paramLabel = "N", defaultValue = "0", description = "cap on live sandboxes (0: none)")
    int maxSandboxes;

    @Option(names = "--max-memory", paramLabel = "MiB", defaultValue = "0",
            description = "cap on the memory live sandboxes claim together, guest RAM plus each VMM's overhead "
                    + "(0: the host's total memory less 1 GiB)")
    long maxMemoryMib;

    @Option(names = "--allow-boot-dir", paramLabel = "DIR",
            description = "a directory clients may name their own kernels and initramfs files in (repeatable; the "
                    + "images directory always is)")
    List<Path> allowBootDirs = new ArrayList<>();

    @Option(names = "--shm-dir", paramLabel = "DIR", description = "template memory (default: /dev/shm/basalt)")
    Path shmDir;

    @Option(names = "--metrics-port", paramLabel = "PORT", description = "serve Prometheus metrics on 127.0.0.1:PORT/metrics")
    Integer metricsPort;

    @Option(names = "--tls-cert", paramLabel = "PEM", description = "certificate chain for --tcp (TLS)")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "PEM", description = "private key for --tcp (TLS)")
    Path tlsKey;

    @Option(names = "--token-file", paramLabel = "FILE", description = "bearer token every --tcp call must carry")
    Path tokenFile;

    @Option(names = "--e2b-port", paramLabel = "PORT", description = "serve E2B's API (control API and envd) on 127.0.0.1:PORT; needs --e2b-api-key-file")
    Integer e2bPort;

    @Option(names = "--e2b-api-key-file", paramLabel = "FILE", description = "the API keys E2B clients must send (X-API-KEY), one per line")
    Path e2bApiKeyFile;

    @Option(names = "--e2b-template", paramLabel = "TEMPLATE=IMAGE", description = "an E2B templateID that names a Basalt image (repeatable; E2B's default template is 'base')")
    Map<String, String> e2bTemplates = new LinkedHashMap<>();

    @Option(names = "--e2b-domain", paramLabel = "DOMAIN", description = "also route envd requests by Host: <port>-<id>.DOMAIN (wildcard DNS behind a TLS proxy)")
    String e2bDomain;

    @Option(names = "--pool-warm", paramLabel = "N", defaultValue = "0", description = "READY sandboxes of the default spec kept waiting")
    int poolWarm;

    @Option(names = "--pool-standby", paramLabel = "N", defaultValue = "0", description = "started VMMs of the default spec kept for restores")
    int poolStandby;

    @Option(names = "--net-slots", paramLabel = "N", description = "networked sandboxes at once at most (default 64)")
    Integer netSlots;

    @Option(names = "--net-uplink", paramLabel = "IFACE", description = "interface sandbox traffic leaves by (default: the default route's)")
    String netUplink;

    @Option(names = "--net-slot-network", paramLabel = "CIDR", description = "range for the slots' /31 links (default 10.203.0.0/16)")
    String netSlotNetwork;

    @Option(names = "--net-dns", paramLabel = "IP", split = ",", description = "resolvers the sandboxes' DNS asks (default: /etc/resolv.conf's)")
    List<String> netDns;

    @Option(names = "--net-prefix", paramLabel = "NAME", description = "names of this daemon's network namespaces, links and nftables table (default basalt; one per daemon on a host)")
    String netPrefix;

    @Option(names = "--net-host-namespace", paramLabel = "NETNS", description = "the named network namespace sandbox traffic is routed from and leaves by (default: basaltd's own)")
    String netHostNamespace;

    public static void main(String[] args) {
        // basaltd's own logging (INFO to stderr) unless told otherwise. It is not a plain logback.xml,
        // so that programs embedding this module (the basalt CLI) keep their own.
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", String.valueOf(Main.class.getResource("basaltd-logback.xml")));
        }
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof BasaltException b) {
                cmd.getErr().println("basaltd: " + b.getMessage());
                return 1;
            }
            throw e;
        });
        System.exit(cli.execute(args));
    }

    /**
     * Claims the socket, run and state directories first (a second daemon on any of them is refused
     * before it changes anything), then starts the manager, which takes over the VMs of the previous
     * run, and serves it until SIGTERM/SIGINT.
     *
     * @throws BasaltException.AlreadyExists if another basaltd uses the socket, run or state directory
     * @throws BasaltException.PermissionDenied if this user cannot write the run or state directory
     */
    @Override
    public Integer call() throws Exception {
        Logger log = LoggerFactory.getLogger(Main.class);
        Path run = runDir != null ? runDir : defaultDir("/run/basalt/daemon", "run");
        Path state = stateDir != null ? stateDir : defaultDir("/var/lib/basalt", "state");
        Path socketPath = socket != null ? socket : dev.basalt.grpc.DaemonSocket.defaultPath();
        DaemonLock lock = DaemonLock.acquire(socketPath, run, state);    // held until the process exits
        ManagerConfig config = ManagerConfig.defaults().withVmsDieWithManager(false)
                .withRunRoot(run).withStateDir(state).withLimits(maxSandboxes, maxMemoryMib);
        if (images != null) {
            config = config.withImagesDir(images);
        }
        // clients may make basaltd (root) open files only where it boots from: its images, and what it is told
        List<Path> bootDirs = new ArrayList<>(allowBootDirs);
        bootDirs.add(config.imagesDir());
        config = config.withContainment(config.containment().withAllowedBootDirs(bootDirs));
        if (shmDir != null) {
            config = config.withShmDir(shmDir);
        }
        if (netSlots != null || netUplink != null || netDns != null || netSlotNetwork != null || netPrefix != null
                || netHostNamespace != null) {
            dev.basalt.net.NetConfig net = dev.basalt.net.NetConfig.defaults();
            if (netSlots != null) {
                net = net.withSlots(netSlots, Math.min(net.spareSlots(), netSlots));
            }
            if (netUplink != null) {
                net = net.withUplink(netUplink);
            }
            if (netSlotNetwork != null) {
                net = net.withSlotNetwork(netSlotNetwork);
            }
            if (netPrefix != null) {
                net = net.withPrefix(netPrefix);
            }
            if (netHostNamespace != null) {
                net = net.withHostNamespace(netHostNamespace);
            }
            if (netDns != null) {
                net = net.withDnsUpstreams(netDns.stream().map(a -> new java.net.InetSocketAddress(a, 53)).toList());
            }
            config = config.withNetwork(net);
        }
        if (poolWarm > 0 || poolStandby > 0) {
            config = config.withPools(List.of(new PoolConfig(SandboxSpec.defaults(), poolWarm, poolStandby)));
        }
        SandboxManager manager;
        try {
            manager = new SandboxManager(config, Hypervisors.detect());
        } catch (RuntimeException e) {
            lock.close();
            throw e;
        }
        AutoCloseable lifecycle = manager.subscribe(EventFilter.all(), LifecycleLog::log);
        ServerMetrics metrics = metricsPort == null ? null : new ServerMetrics(manager);
        if (metrics != null) {
            manager.addDenialListener(metrics.denialCounter());
        }
        List<BasaltServer> servers = new ArrayList<>();
        List<E2bServer> closeables = new ArrayList<>();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log.info("basaltd stopping; its sandboxes keep running for the next start");
            servers.forEach(BasaltServer::close);
            closeables.forEach(c -> c.close());
            LifecycleLog.closeQuietly(lifecycle);
            if (metrics != null) {
                metrics.close();
            }
            manager.close();
            lock.close();
            stopped.countDown();
        }, "basaltd-shutdown"));
        if (metrics != null) {
            metrics.serveHttp(metricsPort);
        }
        ServerOptions options = ServerOptions.defaults().withMetrics(metrics).withImages(manager.images());
        if (e2bPort != null) {
            if (e2bApiKeyFile == null) {
                throw new CommandLine.ParameterException(new CommandLine(this), "--e2b-port needs --e2b-api-key-file");
            }
            E2bOptions e2bOptions = E2bOptions.loopback(e2bPort, ApiKeys.fromFile(e2bApiKeyFile))
                    .withTemplates(e2bTemplates).withDomain(e2bDomain)
                    .withRecordsDir(config.stateDir().resolve("e2b"));
            E2bServer e2b = E2bServer.start(metrics != null ? metrics.instrument(manager) : manager, e2bOptions);
            closeables.add(e2b);
        }
        servers.add(BasaltServer.onUnixSocket(socketPath, manager, options).start());
        if (tcp != null) {
            int colon = tcp.lastIndexOf(':');
            if (colon < 0) {
                throw new CommandLine.ParameterException(new CommandLine(this), "--tcp wants HOST:PORT, got '" + tcp + "'");
            }
            String host = tcp.substring(0, colon);
            int port = Integer.parseInt(tcp.substring(colon + 1));
            servers.add((tlsCert != null || tokenFile != null
                    // the image service reads files of this host by path (archives, build contexts): unix socket only
                    ? BasaltServer.onTcp(host, port, manager, options.withImages(null).withTls(tlsCert, tlsKey)
                            .withTokenFile(tokenFile))
                    : BasaltServer.onTcp(host, port, manager)).start());
        }
        log.info("basaltd ready on {} ({} sandbox(es), accel {}; run dir {}, state dir {}); clients: basalt --host unix:{}",
                servers.stream().map(BasaltServer::address).toList(), manager.list().size(), manager.accel(), run, state,
                socketPath.toAbsolutePath());
        stopped.await();
        return 0;
    }

    /** {@code rootPath} for root; else a per-user directory ({@code $XDG_RUNTIME_DIR/basalt/<kind>} or ~/.local/share/basalt). */
    private static Path defaultDir(String rootPath, String kind) {
        if ("root".equals(System.getProperty("user.name"))) {
            return Path.of(rootPath);
        }
        if (kind.equals("run")) {
            String runtime = System.getenv("XDG_RUNTIME_DIR");
            return runtime != null && !runtime.isBlank() ? Path.of(runtime, "basalt", "daemon")
                    : Path.of("/tmp", "basalt-" + System.getProperty("user.name"), "daemon");
        }
        return Path.of(System.getProperty("user.home"), ".local", "share", "basalt");
    }

}
