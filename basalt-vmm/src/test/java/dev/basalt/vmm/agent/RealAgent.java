package dev.basalt.vmm.agent;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real C agent ({@code guest/agent}) built for the host and run as
 * {@code basalt-agent --connect SOCKET}: the test listens on a unix socket, the agent
 * connects and serves the protocol, and exits when the client closes. Kills only the
 * process it started.
 */
final class RealAgent implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RealAgent.class);
    private static Path binary;

    final Path dir;
    final Process process;
    final AgentClient client;

    private RealAgent(Path dir, Process process, AgentClient client) {
        this.dir = dir;
        this.process = process;
        this.client = client;
    }

    static Path repoRoot() {
        String prop = System.getProperty("basalt.repo");
        if (prop != null && !prop.isBlank() && Files.isRegularFile(Path.of(prop, "guest/agent/build.sh"))) {
            return Path.of(prop);
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("guest/agent/build.sh"))) {
                return p;
            }
        }
        throw new IllegalStateException("guest/agent/build.sh not found: set -Dbasalt.repo");
    }

    /** Builds the agent once per JVM into target/agent/ (skips the test only if gcc is missing). */
    static synchronized Path binary() throws IOException, InterruptedException {
        if (binary != null) {
            return binary;
        }
        assumeTrue(Stream.of(System.getenv("PATH").split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, "gcc"))),
                "gcc is not installed: cannot build the guest agent for the host (apt-get install gcc libc6-dev)");
        Path out = Path.of("target", "agent", "basalt-agent").toAbsolutePath();
        Files.createDirectories(out.getParent());
        Process p = new ProcessBuilder("sh", repoRoot().resolve("guest/agent/build.sh").toString(), out.toString())
                .redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException("guest/agent/build.sh failed:\n" + output);
        }
        binary = out;
        return out;
    }

    static RealAgent start() throws Exception {
        Path agent = binary();
        Path dir = Files.createTempDirectory("basalt-agent-it");
        Path socket = dir.resolve("agent.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Process process = new ProcessBuilder(agent.toString(), "--connect", socket.toString())
                    .redirectOutput(dir.resolve("agent.out").toFile())
                    .redirectError(dir.resolve("agent.err").toFile())
                    .start();
            SocketChannel ch = accept(server, process, Duration.ofSeconds(10));
            AgentClient client = AgentClient.connect(UnixSocketTransport.of(ch, "real-" + process.pid()),
                    Duration.ofSeconds(10));
            return new RealAgent(dir, process, client);
        }
    }

    private static SocketChannel accept(ServerSocketChannel server, Process process, Duration timeout)
            throws IOException, InterruptedException {
        server.configureBlocking(false);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            SocketChannel ch = server.accept();
            if (ch != null) {
                ch.configureBlocking(true);
                return ch;
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("agent exited with " + process.exitValue() + " before connecting");
            }
            Thread.sleep(1);
        }
        process.destroyForcibly();
        throw new IllegalStateException("agent did not connect within " + timeout);
    }

    /** A fresh directory for a test's files, deleted on close. */
    Path workDir() throws IOException {
        return Files.createDirectories(dir.resolve("work"));
    }

    @Override
    public void close() throws IOException {
        client.close();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                log.warn("agent {} did not exit after the client closed; killing it", process.pid());
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
