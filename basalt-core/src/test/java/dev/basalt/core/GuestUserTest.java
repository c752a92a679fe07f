package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecOutput;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.GuestUser;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Commands and files as a guest user, with real VMs: its ids, its permissions, its files. */
@ExtendWith(RealVms.class)
class GuestUserTest {
    private static final GuestUser NOBODY = new GuestUser(65534, 65534);

    @Test
    void commandsRunAsTheUser(RealVms.SharedSandbox s) {
        SandboxManager m = s.manager();
        assertThat(m.exec(s.id(), ExecRequest.of("sh", "-c", "id -u; id -g; id -G").withUser(NOBODY)).stdoutText())
                .isEqualTo("65534\n65534\n65534\n");
        assertThat(m.exec(s.id(), ExecRequest.of("id", "-u")).stdoutText()).isEqualTo("0\n");
        var denied = m.exec(s.id(), ExecRequest.of("touch", "/root/by-nobody").withUser(NOBODY));
        assertThat(denied.exit()).isNotEqualTo(new dev.basalt.api.ExitStatus.Exited(0));
        assertThat(denied.stderrText()).contains("Permission denied");
        try (var p = m.start(s.id(), ExecRequest.of("sh", "-c", "read x; id -u").withUser(NOBODY), ExecOutput.discard())) {
            p.writeStdin("go\n".getBytes(StandardCharsets.UTF_8));
            assertThat(p.awaitExit(Duration.ofSeconds(30))).isEqualTo(new dev.basalt.api.ExitStatus.Exited(0));
        }
        // a cwd the user may not enter fails the start, not the sandbox
        m.exec(s.id(), ExecRequest.of("sh", "-c", "mkdir -p /root/private && chmod 700 /root/private"));
        assertThatThrownBy(() -> m.exec(s.id(), ExecRequest.of("true").withCwd("/root/private").withUser(NOBODY)))
                .isInstanceOf(BasaltException.PermissionDenied.class);
    }

    @Test
    void filesAreWrittenAndMadeAsTheUser(RealVms.SharedSandbox s) {
        SandboxManager m = s.manager();
        m.writeFile(s.id(), "/tmp/users/by-nobody/f", new ByteArrayInputStream("x".getBytes()), 0640, NOBODY);
        assertThat(owner(m, s.id(), "/tmp/users/by-nobody")).isEqualTo("65534:65534");
        assertThat(owner(m, s.id(), "/tmp/users/by-nobody/f")).isEqualTo("65534:65534");
        m.mkdir(s.id(), "/tmp/users/dir-of-nobody/sub", NOBODY);
        assertThat(owner(m, s.id(), "/tmp/users/dir-of-nobody/sub")).isEqualTo("65534:65534");
        m.writeFile(s.id(), "/tmp/users/by-root", new ByteArrayInputStream("x".getBytes()), 0644, null);
        assertThat(owner(m, s.id(), "/tmp/users/by-root")).isEqualTo("0:0");

        assertThatThrownBy(() -> m.writeFile(s.id(), "/root/no", new ByteArrayInputStream("x".getBytes()), 0644, NOBODY))
                .isInstanceOf(BasaltException.PermissionDenied.class);
        assertThatThrownBy(() -> m.mkdir(s.id(), "/root/no-dir", NOBODY)).isInstanceOf(BasaltException.PermissionDenied.class);
        assertThatThrownBy(() -> m.stat(s.id(), "/root/no")).isInstanceOf(BasaltException.NotFound.class);
        // the agent is root again afterwards
        m.writeFile(s.id(), "/root/yes", new ByteArrayInputStream("x".getBytes()), 0644);
        assertThat(owner(m, s.id(), "/root/yes")).isEqualTo("0:0");
    }

    private static String owner(SandboxManager m, String id, String path) {
        String[] f = m.exec(id, ExecRequest.of("ls", "-ldn", path)).stdoutText().trim().split("\\s+");
        return f[2] + ":" + f[3];
    }
}
