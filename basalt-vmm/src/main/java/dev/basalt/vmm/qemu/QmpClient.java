package dev.basalt.vmm.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.basalt.api.BasaltException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small client of QEMU's machine protocol (QMP): JSON objects, one per line, over a unix socket.
 * Commands run one at a time; asynchronous events that arrive in between are logged and skipped.
 * Usable from connect until {@link #close()}.
 */
public final class QmpClient implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(QmpClient.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SocketChannel channel;
    private final BufferedReader in;
    private final OutputStream out;
    private final AtomicLong ids = new AtomicLong();

    private QmpClient(SocketChannel channel) {
        this.channel = channel;
        this.in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
        this.out = Channels.newOutputStream(channel);
    }

    /**
     * Connects, reads the greeting and negotiates capabilities. QEMU binds its socket a moment
     * before it listens, so a refused connection is retried for a few seconds.
     */
    public static QmpClient connect(Path socket) {
        try {
            SocketChannel ch = connectWithRetry(socket, System.nanoTime() + CONNECT_RETRY_NANOS);
            QmpClient client = new QmpClient(ch);
            JsonNode greeting = client.readMessage();
            if (!greeting.has("QMP")) {
                client.close();
                throw new BasaltException.Internal("unexpected QMP greeting from " + socket + ": " + greeting);
            }
            client.execute("qmp_capabilities", Map.of());
            return client;
        } catch (IOException e) {
            throw new BasaltException.Unavailable("cannot connect to QMP socket " + socket + ": " + e.getMessage(), e);
        }
    }

    /**
     * Runs one command and returns its {@code return} value.
     *
     * @throws BasaltException.Internal if QEMU answers with an error
     */
    public synchronized JsonNode execute(String command, Map<String, ?> arguments) {
        String id = "b" + ids.incrementAndGet();
        ObjectNode request = JSON.createObjectNode();
        request.put("execute", command);
        request.put("id", id);
        if (!arguments.isEmpty()) {
            request.set("arguments", JSON.valueToTree(arguments));
        }
        try {
            out.write((JSON.writeValueAsString(request) + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            while (true) {
                JsonNode reply = readMessage();
                if (reply.has("event")) {
                    log.debug("QMP event {}", reply);
                    continue;
                }
                if (!id.equals(reply.path("id").asText())) {
                    continue;
                }
                if (reply.has("error")) {
                    throw new BasaltException.Internal("QMP " + command + " failed: "
                            + reply.path("error").path("class").asText() + ": "
                            + reply.path("error").path("desc").asText());
                }
                return reply.path("return");
            }
        } catch (IOException e) {
            throw new BasaltException.Unavailable("QMP " + command + " failed: " + e.getMessage(), e);
        }
    }

    private static final long CONNECT_RETRY_NANOS = 5_000_000_000L;

    private static SocketChannel connectWithRetry(Path socket, long deadline) throws IOException {
        while (true) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
                return ch;
            } catch (java.net.ConnectException | java.nio.file.NoSuchFileException e) {
                ch.close();
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                try {
                    Thread.sleep(0, 200_000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while connecting to " + socket, ie);
                }
            }
        }
    }

    private JsonNode readMessage() throws IOException {
        String line = in.readLine();
        if (line == null) {
            throw new IOException("QMP connection closed");
        }
        return JSON.readTree(line);
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            log.debug("closing QMP channel", e);
        }
    }
}
