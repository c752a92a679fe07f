package dev.basalt.vmm;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import java.util.Set;

/**
 * A log kept as a bounded ring of two files: {@code file} is written until it holds half the
 * limit, then renamed to {@code file.1} (replacing the older half) and started afresh. On disk it
 * never holds more than the limit, whatever is written into it; {@link LogFiles#tail} reads both
 * halves, so a reader always finds at least the last half of the limit. Files are created 0600.
 * Not thread-safe: one writer.
 */
public final class LogRing implements Closeable {
    /** The smallest limit: two 4 KiB halves. */
    public static final long MIN_BYTES = 8 * 1024;
    private static final Set<StandardOpenOption> APPEND =
            Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);

    private final Path current;
    private final Path previous;
    private final long half;
    private FileChannel out;
    private long size;

    private LogRing(Path file, long limitBytes) {
        this.current = file;
        this.previous = previousOf(file);
        this.half = limitBytes / 2;
    }

    /**
     * Opens (appending to) the ring at {@code file}, holding at most {@code limitBytes} on disk.
     *
     * @throws IllegalArgumentException if the limit is below {@link #MIN_BYTES}
     */
    public static LogRing open(Path file, long limitBytes) throws IOException {
        Objects.requireNonNull(file, "file");
        if (limitBytes < MIN_BYTES) {
            throw new IllegalArgumentException("a log ring needs at least " + MIN_BYTES + " bytes, got " + limitBytes);
        }
        LogRing ring = new LogRing(file, limitBytes);
        ring.out = openFresh(file, APPEND);
        ring.size = ring.out.size();
        return ring;
    }

    /** The file that holds the older half of the ring at {@code file}. */
    public static Path previousOf(Path file) {
        return file.resolveSibling(file.getFileName() + ".1");
    }

    /** Appends every remaining byte of {@code data}, moving to a new half as often as needed. */
    public void write(ByteBuffer data) throws IOException {
        while (data.hasRemaining()) {
            if (size >= half) {
                rotate();
            }
            int n = (int) Math.min(data.remaining(), half - size);
            ByteBuffer part = data.slice(data.position(), n);
            while (part.hasRemaining()) {
                size += out.write(part);
            }
            data.position(data.position() + n);
        }
    }

    private void rotate() throws IOException {
        out.close();
        Files.move(current, previous, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        out = openFresh(current, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
        size = 0;
    }

    private static FileChannel openFresh(Path file, Set<StandardOpenOption> options) throws IOException {
        return FileChannel.open(file, options, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
