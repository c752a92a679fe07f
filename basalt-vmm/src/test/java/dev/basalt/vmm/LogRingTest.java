package dev.basalt.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogRingTest {

    @Test
    void tenMegabytesIntoA64KibRingKeepAtMost64KibAndTheNewestBytes(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("console.log");
        StringBuilder all = new StringBuilder();
        Random random = new Random(3);
        try (LogRing ring = LogRing.open(file, 64 * 1024)) {
            for (int line = 0; all.length() < 10_000_000; line++) {
                String text = "line " + line + " " + "x".repeat(random.nextInt(3000)) + "\n";
                all.append(text);
                ring.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII)));
                assertThat(Files.size(file) + size(LogRing.previousOf(file))).isLessThanOrEqualTo(64 * 1024);
            }
        }
        String tail = LogFiles.tail(file, 30_000);
        assertThat(tail).hasSize(30_000);
        assertThat(all.toString()).endsWith(tail);
        assertThat(LogFiles.tail(file, 1 << 20).length()).isBetween(32 * 1024, 64 * 1024);
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.getPosixFilePermissions(LogRing.previousOf(file))).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    }

    @Test
    void reopeningAppendsAndAPlainFileStillHasATail(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("c.log");
        try (LogRing ring = LogRing.open(file, LogRing.MIN_BYTES)) {
            ring.write(ByteBuffer.wrap("one\n".getBytes()));
        }
        try (LogRing ring = LogRing.open(file, LogRing.MIN_BYTES)) {
            ring.write(ByteBuffer.wrap("two\n".getBytes()));
        }
        assertThat(LogFiles.tail(file, 100)).isEqualTo("one\ntwo\n");
        assertThat(LogFiles.tail(dir.resolve("missing"), 100)).isEmpty();
        assertThatThrownBy(() -> LogRing.open(file, 100)).isInstanceOf(IllegalArgumentException.class);
    }

    private static long size(Path p) throws Exception {
        return Files.exists(p) ? Files.size(p) : 0;
    }
}
