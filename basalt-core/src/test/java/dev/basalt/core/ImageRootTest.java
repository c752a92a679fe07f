package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.ExecRequest;
import dev.basalt.api.ImageInfo;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.image.TestImages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sandboxes of real images on real VMs: the shipped Debian {@code base} (python3, pip, venv, git,
 * curl, a user) and an OCI image built by umoci, whose config's Env, WorkingDir and User are the
 * defaults of every command.
 */
@ExtendWith(RealVms.class)
class ImageRootTest {

    private static String sh(SandboxManager m, String id, String script) {
        var r = m.exec(id, ExecRequest.of("sh", "-c", script));
        assertThat(r.exit().success()).as("`%s`: %s %s", script, r.stdoutText(), r.stderrText()).isTrue();
        return r.stdoutText();
    }

    @Test
    void baseRunsPythonGitCurlAndHasItsUser(SandboxManager m) {
        SandboxInfo s = m.create(SandboxSpec.defaults().withImage("base"));
        try {
            assertThat(m.exec(s.id(), ExecRequest.of("python3", "-c", "print(1)")).stdoutText()).isEqualTo("1\n");
            String out = sh(m, s.id(), "id -un; id user; echo $HOME $LANG; git --version; curl --version | head -1;"
                    + " python3 -m pip --version; python3 -m venv --without-pip /tmp/venv && /tmp/venv/bin/python -c"
                    + " 'import sys; print(sys.prefix)'; df -k / | tail -1 | awk '{print $2}'");
            assertThat(out).startsWith("root\nuid=1000(user) gid=1000(user) groups=1000(user)\n/root C.UTF-8\n")
                    .contains("git version 2.").contains("curl 7.").contains("pip ").contains("/tmp/venv\n");
            long kib = Long.parseLong(out.strip().substring(out.strip().lastIndexOf('\n') + 1));
            assertThat(kib).isGreaterThan(3L << 20);    // the default 4 GiB disk, less ext4's own
        } finally {
            m.remove(s.id());
        }
    }

    @Test
    void anOciImageRunsWithItsConfigsDefaults(SandboxManager m, @TempDir Path tmp) throws IOException {
        Path layout = TestImages.ociLayout(tmp.resolve("layout"), "v1", "oci marker");
        ImageInfo info = m.images().importArchive(layout, "v1", "test/oci-defaults", l -> { });
        SandboxInfo s = m.create(SandboxSpec.defaults().withImage(info.name()).withColdBoot(true));
        try {
            assertThat(sh(m, s.id(), "id -u; pwd; echo $GREETING $HOME; cat /etc/marker /etc/second; ls /etc"))
                    .isEqualTo("1000\n/home/user\nhello /home/user\noci markerfrom layer 2marker\npasswd\nsecond\n");
            // what a request says wins over the image's defaults
            var r = m.exec(s.id(), ExecRequest.of("sh", "-c", "pwd; echo $GREETING").withCwd("/etc")
                    .withEnv(java.util.Map.of("GREETING", "mine")));
            assertThat(r.stdoutText()).isEqualTo("/etc\nmine\n");
        } finally {
            m.remove(s.id());
            m.images().remove(info.name());
        }
        assertThat(Files.exists(RealVms.config().disksDir().resolve("sandboxes").resolve(s.id()))).isFalse();
    }
}
