package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.basalt.api.BasaltException;
import dev.basalt.api.FileInfo;
import dev.basalt.api.FileType;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.DigestInputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** File operations against a real guest. */
@ExtendWith(RealVms.class)
class FileTest {

    @Test
    void bigFileRoundTripKeepsEveryByte(RealVms.SharedSandbox sb) throws Exception {
        long size = 64L << 20;
        MessageDigest up = MessageDigest.getInstance("SHA-256");
        try (InputStream in = new DigestInputStream(new RandomStream(size, 42), up)) {
            sb.manager().writeFile(sb.id(), "/tmp/big.bin", in, 0600);
        }
        FileInfo info = sb.manager().stat(sb.id(), "/tmp/big.bin");
        assertThat(info.size()).isEqualTo(size);
        assertThat(info.mode()).isEqualTo(0600);
        assertThat(info.type()).isEqualTo(FileType.FILE);

        String guestHash = sb.manager().exec(sb.id(), dev.basalt.api.ExecRequest.of("sha256sum", "/tmp/big.bin"))
                .stdoutText().split(" ")[0];
        assertThat(guestHash).isEqualTo(HexFormat.of().formatHex(up.digest()));

        MessageDigest down = MessageDigest.getInstance("SHA-256");
        try (OutputStream out = new DigestOutputStream(OutputStream.nullOutputStream(), down)) {
            sb.manager().readFile(sb.id(), "/tmp/big.bin", out);
        }
        assertThat(HexFormat.of().formatHex(down.digest())).isEqualTo(guestHash);
        sb.manager().removeFile(sb.id(), "/tmp/big.bin", false);
    }

    @Test
    void directoryOperations(RealVms.SharedSandbox sb) {
        var m = sb.manager();
        String id = sb.id();
        m.mkdir(id, "/tmp/ft/a/b");
        m.writeFile(id, "/tmp/ft/a/b/one.txt", bytes("one"), 0644);
        m.writeFile(id, "/tmp/ft/new/parents/two.txt", bytes("two"), 0644);
        assertThat(m.listFiles(id, "/tmp/ft")).extracting(FileInfo::name).containsExactly("a", "new");
        assertThat(m.listFiles(id, "/tmp/ft/a/b")).singleElement()
                .satisfies(f -> {
                    assertThat(f.path()).isEqualTo("/tmp/ft/a/b/one.txt");
                    assertThat(f.size()).isEqualTo(3);
                });
        m.rename(id, "/tmp/ft/a/b/one.txt", "/tmp/ft/a/uno.txt");
        assertThat(read(sb, "/tmp/ft/a/uno.txt")).isEqualTo("one");
        assertThatThrownBy(() -> m.stat(id, "/tmp/ft/a/b/one.txt")).isInstanceOf(BasaltException.NotFound.class);
        assertThatThrownBy(() -> m.removeFile(id, "/tmp/ft", false)).isInstanceOf(BasaltException.InvalidArgument.class);
        m.removeFile(id, "/tmp/ft", true);
        assertThatThrownBy(() -> m.stat(id, "/tmp/ft")).isInstanceOf(BasaltException.NotFound.class);
    }

    @Test
    void badPathsGetClearErrors(RealVms.SharedSandbox sb) {
        var m = sb.manager();
        String id = sb.id();
        assertThatThrownBy(() -> m.readFile(id, "/no/such/file", OutputStream.nullOutputStream()))
                .isInstanceOf(BasaltException.NotFound.class).hasMessageContaining("/no/such/file");
        assertThatThrownBy(() -> m.stat(id, "relative/path"))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("absolute");
        assertThatThrownBy(() -> m.readFile(id, "/tmp/../etc/passwd", OutputStream.nullOutputStream()))
                .isInstanceOf(BasaltException.InvalidArgument.class).hasMessageContaining("..");
        assertThatThrownBy(() -> m.listFiles(id, "/etc/passwd"))
                .isInstanceOf(BasaltException.InvalidArgument.class);
        assertThatThrownBy(() -> m.readFile(id, "/tmp", OutputStream.nullOutputStream()))
                .isInstanceOf(BasaltException.InvalidArgument.class);
        assertThatThrownBy(() -> m.removeFile(id, "/", true))
                .isInstanceOf(BasaltException.InvalidArgument.class);
        assertThatThrownBy(() -> m.writeFile(id, "/proc/nope/x", bytes("x"), 0644))
                .isInstanceOf(BasaltException.class);
        assertThat(m.exec(id, dev.basalt.api.ExecRequest.of("true")).exit().success()).isTrue();
    }

    @Test
    void failedUploadLeavesNoHalfFile(RealVms.SharedSandbox sb) {
        InputStream broken = new InputStream() {
            int n;
            @Override
            public int read() throws java.io.IOException {
                if (n++ > 300_000) {
                    throw new java.io.IOException("source broke");
                }
                return 'x';
            }
        };
        sb.manager().writeFile(sb.id(), "/tmp/keep.txt", bytes("original"), 0644);
        assertThatThrownBy(() -> sb.manager().writeFile(sb.id(), "/tmp/keep.txt", broken, 0644))
                .isInstanceOf(BasaltException.class).hasMessageContaining("source broke");
        assertThat(read(sb, "/tmp/keep.txt")).isEqualTo("original");
    }

    private static String read(RealVms.SharedSandbox sb, String path) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        sb.manager().readFile(sb.id(), path, out);
        return out.toString(StandardCharsets.UTF_8);
    }

    private static InputStream bytes(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }

    /** {@code size} pseudo-random bytes without holding them in memory. */
    static final class RandomStream extends InputStream {
        private final Random random;
        private long remaining;

        RandomStream(long size, long seed) {
            this.remaining = size;
            this.random = new Random(seed);
        }

        @Override
        public int read() {
            if (remaining == 0) {
                return -1;
            }
            remaining--;
            return random.nextInt(256);
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (remaining == 0) {
                return -1;
            }
            int n = (int) Math.min(len, remaining);
            byte[] chunk = new byte[n];
            random.nextBytes(chunk);
            System.arraycopy(chunk, 0, b, off, n);
            remaining -= n;
            return n;
        }
    }
}
