package dev.basalt.vmm.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class UnixSocketTransportTest {
    private Path dir;

    @BeforeEach
    void dir() throws IOException {
        dir = Files.createTempDirectory("basalt-uds");
    }

    @AfterEach
    void clean() throws IOException {
        Files.deleteIfExists(dir.resolve("s.sock"));
        Files.deleteIfExists(dir);
    }

    @Test
    void connectRetriesUntilTheSocketAppears() throws Exception {
        Path socket = dir.resolve("s.sock");
        CompletableFuture<SocketChannel> server = CompletableFuture.supplyAsync(() -> {
            try {
                Thread.sleep(150);
                ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
                s.bind(UnixDomainSocketAddress.of(socket));
                SocketChannel ch = s.accept();
                s.close();
                return ch;
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        try (UnixSocketTransport t = UnixSocketTransport.connect(socket, Duration.ofSeconds(5));
             SocketChannel peer = server.get(5, TimeUnit.SECONDS)) {
            t.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            ByteBuffer got = ByteBuffer.allocate(3);
            while (got.hasRemaining()) {
                peer.read(got);
            }
            assertThat(got.array()).containsExactly(1, 2, 3);
            assertThat(t.name()).isEqualTo("s.sock");
        }
    }

    @Test
    void connectGivesUpAtTheDeadlineNamingThePath() {
        Path socket = dir.resolve("s.sock");
        long start = System.nanoTime();
        assertThatThrownBy(() -> UnixSocketTransport.connect(socket, Duration.ofMillis(200)))
                .isInstanceOf(IOException.class).hasMessageContaining(socket.toString());
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(190), Duration.ofSeconds(2));
    }
}
