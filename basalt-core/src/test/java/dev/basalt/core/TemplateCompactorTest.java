package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The compactor's sweep on real tmpfs files (no VM): a published template file whose holes were
 * filled with zeros gets them punched out, its data stays, and a template still being built (a
 * hidden directory) is left alone.
 */
class TemplateCompactorTest {
    private static final int MIB = 1 << 20;

    @Test
    void theSweepGivesBackZeroPagesOfPublishedTemplatesOnly() throws Exception {
        Path shm = Files.createTempDirectory(Path.of("/dev/shm"), "basalt-test-compactor-");
        try {
            Path published = grownTemplate(shm.resolve("templates/k1"));
            Path building = grownTemplate(shm.resolve("templates/.k2.123"));
            assertThat(ZeroPages.allocatedBytes(published)).isGreaterThan(40L * MIB);

            try (TemplateCompactor compactor = new TemplateCompactor(shm.resolve("templates"), Duration.ofMillis(100))) {
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (ZeroPages.allocatedBytes(published) > 2L * MIB && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
            }
            assertThat(ZeroPages.allocatedBytes(published)).as("after the sweep").isLessThanOrEqualTo(2L * MIB);
            assertThat(Files.size(published)).isEqualTo(64L * MIB);
            try (FileChannel in = FileChannel.open(published)) {
                ByteBuffer head = ByteBuffer.allocate(5);
                in.read(head, 0);
                assertThat(new String(head.array(), StandardCharsets.US_ASCII)).isEqualTo("data!");
            }
            assertThat(ZeroPages.allocatedBytes(building)).as("a template being built").isGreaterThan(40L * MIB);
        } finally {
            RunRoot.deleteTree(shm);
        }
    }

    /** A 64 MiB sparse file with data in its first page and 40 MiB of zeros written further on. */
    private static Path grownTemplate(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve("memory.ram");
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            out.write(ByteBuffer.wrap("data!".getBytes(StandardCharsets.US_ASCII)), 0);
            ByteBuffer zeros = ByteBuffer.allocate(MIB);
            for (int i = 0; i < 40; i++) {
                zeros.clear();
                out.write(zeros, (long) (8 + i) * MIB);
            }
            out.truncate(64L * MIB);
            out.write(ByteBuffer.allocate(1), 64L * MIB - 1);
        }
        return file;
    }
}
