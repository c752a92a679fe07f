package dev.basalt.core;

import dev.basalt.vmm.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Punches the all-zero pages out of a file ({@code fallocate(FALLOC_FL_PUNCH_HOLE)}, through the
 * foreign-function API since Java has no call for it). On tmpfs a punched page stops using memory;
 * reading it still returns zeros, through {@code read(2)} and through every mapping of the file.
 * The file is read with {@code read(2)}, which does not allocate its holes (a read fault on a
 * mapping would). Safe on a file that others map, as long as nobody writes it meanwhile: a page
 * that is zero now reads as zero after the punch.
 */
final class ZeroPages {
    private static final int PAGE = 4096;
    private static final int CHUNK = 1 << 20;
    private static final int FALLOC_FL_KEEP_SIZE = 1;
    private static final int FALLOC_FL_PUNCH_HOLE = 2;
    private static final MemorySegment ZERO_PAGE = MemorySegment.ofArray(new byte[PAGE]);

    private ZeroPages() {
    }

    /** Punches every all-zero page of {@code file} out of it; returns how many bytes the zero ranges span. */
    static long punch(Path file) throws IOException {
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            int fd = Libc.open(file, Libc.O_WRONLY | Libc.O_CLOEXEC, 0);
            try {
                ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK);
                MemorySegment chunk = MemorySegment.ofBuffer(buffer);
                long size = in.size();
                long zeroStart = -1;
                long zeroBytes = 0;
                for (long pos = 0; pos < size; pos += CHUNK) {
                    int n = readFully(in, buffer, pos);
                    for (int off = 0; off < n; off += PAGE) {
                        int len = Math.min(PAGE, n - off);
                        boolean zero = MemorySegment.mismatch(chunk, off, off + len, ZERO_PAGE, 0, len) == -1;
                        if (zero && zeroStart < 0) {
                            zeroStart = pos + off;
                        } else if (!zero && zeroStart >= 0) {
                            zeroBytes += Native.punch(arena, fd, file, zeroStart, pos + off - zeroStart);
                            zeroStart = -1;
                        }
                    }
                }
                if (zeroStart >= 0) {
                    zeroBytes += Native.punch(arena, fd, file, zeroStart, size - zeroStart);
                }
                return zeroBytes;
            } finally {
                Libc.close(fd);
            }
        }
    }

    /** The memory (tmpfs) or disk blocks {@code file} holds, in bytes: {@code st_blocks} × 512. */
    static long allocatedBytes(Path file) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            return Native.allocatedBytes(arena, file);
        }
    }

    private static int readFully(FileChannel in, ByteBuffer buffer, long position) throws IOException {
        buffer.clear();
        while (buffer.hasRemaining()) {
            int n = in.read(buffer, position + buffer.position());
            if (n < 0) {
                break;
            }
        }
        return buffer.position();
    }

    /** The libc calls Java has no API for, linked on first use. */
    private static final class Native {
        private static final MethodHandle FALLOCATE = Libc.function("fallocate",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_LONG));
        private static final MethodHandle STAT = Libc.function("stat",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
        /** {@code sizeof(struct stat)} and the offset of {@code st_blocks} on x86-64 Linux. */
        private static final int STAT_SIZE = 144;
        private static final int ST_BLOCKS = 64;

        static long allocatedBytes(Arena arena, Path file) throws IOException {
            MemorySegment state = Libc.callState(arena);
            MemorySegment stat = arena.allocate(STAT_SIZE, 8);
            int rc;
            try {
                rc = (int) STAT.invokeExact(state, arena.allocateFrom(file.toString()), stat);
            } catch (Throwable t) {
                throw new IOException("cannot call stat(2): " + t, t);
            }
            if (rc != 0) {
                throw new Libc.Errno("cannot stat " + file, Libc.errno(state));
            }
            return stat.get(ValueLayout.JAVA_LONG, ST_BLOCKS) * 512;
        }

        static long punch(Arena arena, int fd, Path file, long offset, long length) throws IOException {
            MemorySegment state = Libc.callState(arena);
            int rc;
            try {
                rc = (int) FALLOCATE.invokeExact(state, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
            } catch (Throwable t) {
                throw new IOException("cannot call fallocate(2): " + t, t);
            }
            if (rc != 0) {
                throw new Libc.Errno("cannot punch " + length + " bytes at " + offset + " out of " + file, Libc.errno(state));
            }
            return length;
        }
    }
}
