package dev.basalt.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LibcTest {

    @Test
    void openCreatesAndCloseReleases(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("created");
        int fd = Libc.open(file, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_TRUNC | Libc.O_CLOEXEC, 0600);
        assertThat(fd).isGreaterThan(2);
        assertThat(Files.readSymbolicLink(Path.of("/proc/self/fd", Integer.toString(fd)))).isEqualTo(file);
        Libc.close(fd);
        assertThat(Files.exists(Path.of("/proc/self/fd", Integer.toString(fd)))).isFalse();
        assertThat(Files.getPosixFilePermissions(file)).hasSize(2);   // rw------- (0600)
    }

    @Test
    void aFailedCallSaysWhatAndWhy(@TempDir Path dir) {
        Path missing = dir.resolve("no/such/file");
        assertThatThrownBy(() -> Libc.open(missing, Libc.O_RDONLY | Libc.O_CLOEXEC, 0))
                .isInstanceOf(Libc.Errno.class)
                .hasMessage("cannot open " + missing + ": No such file or directory (errno 2)")
                .satisfies(e -> assertThat(((Libc.Errno) e).errno()).isEqualTo(2));
        assertThat(Libc.describe(28)).isEqualTo("No space left on device (errno 28)");
    }
}
