package dev.basalt.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecRequest;
import dev.basalt.grpc.RemoteSandboxes;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** basaltd on a real unix socket: permissions, health, the port through it, one daemon per socket. */
@ExtendWith(GrpcVms.class)
class UnixSocketTest {

    @Test
    void servesThePortOnAUnixSocket(GrpcVms.Stack s, @TempDir Path dir) throws Exception {
        Path socket = dir.resolve("run/basaltd.sock");
        try (BasaltServer server = BasaltServer.onUnixSocket(socket, s.manager()).start();
             RemoteSandboxes client = RemoteSandboxes.unixSocket(socket)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-rw----");
            assertThat(client.exec(s.sharedId(), ExecRequest.of("echo", "via socket")).stdoutText()).isEqualTo("via socket\n");
            assertThat(client.list()).isNotEmpty();

            ManagedChannel channel = Grpc.newChannelBuilder("unix://" + socket, InsecureChannelCredentials.create()).build();
            try {
                HealthCheckResponse health = HealthGrpc.newBlockingStub(channel).check(
                        HealthCheckRequest.newBuilder().setService("basalt.v1.SandboxService").build());
                assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
            } finally {
                channel.shutdownNow();
            }
            assertThatThrownBy(() -> BasaltServer.onUnixSocket(socket, s.manager()))
                    .isInstanceOf(BasaltException.AlreadyExists.class).hasMessageContaining("another basaltd");
        }
        assertThat(socket).doesNotExist();
    }
}
