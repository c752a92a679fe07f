package dev.basalt.vmm;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The libc calls Java has no API for (descriptor passing, hole punching, {@code st_blocks},
 * scheduling policies), through the foreign-function API: one place for the linker, the capture
 * of {@code errno} and the x86-64 Linux constants. A class that needs a function keeps its handle
 * in a holder class of its own, so a process that never makes a call never links it (the first
 * link costs ~100 ms). Run the JVM with {@code --enable-native-access=ALL-UNNAMED} to keep it quiet.
 */
public final class Libc {
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_CREAT = 0x40;
    public static final int O_TRUNC = 0x200;
    public static final int O_CLOEXEC = 0x80000;
    public static final int EINTR = 4;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemoryLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private Libc() {
    }

    /** A libc call that failed: which call, on what, and the {@code errno} it set. */
    public static final class Errno extends IOException {
        private final int errno;

        public Errno(String what, int errno) {
            super(what + ": " + describe(errno));
            this.errno = errno;
        }

        public int errno() {
            return errno;
        }
    }

    /**
     * A handle on libc function {@code name} that captures {@code errno}: its first parameter is a
     * segment from {@link #callState}, read afterwards with {@link #errno}.
     */
    public static MethodHandle function(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        Linker.Option[] all = Stream.concat(Stream.of(options), Stream.of(Linker.Option.captureCallState("errno")))
                .toArray(Linker.Option[]::new);
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), descriptor, all);
    }

    /** Room for the {@code errno} a {@link #function} handle captures. */
    public static MemorySegment callState(Arena arena) {
        return arena.allocate(CALL_STATE);
    }

    /** The {@code errno} the last call through {@code state} captured. */
    public static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /** The system's text for {@code errno}, with its number: "No such file or directory (errno 2)". */
    public static String describe(int errno) {
        try {
            MemorySegment text = (MemorySegment) Calls.STRERROR.invokeExact(errno);
            return text.reinterpret(256).getString(0) + " (errno " + errno + ")";
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    /** {@code open(2)}: the new descriptor, or {@link Errno} saying "cannot open FILE: …". */
    public static int open(Path file, int flags, int mode) throws Errno {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = callState(arena);
            int fd = (int) Calls.OPEN.invokeExact(state, arena.allocateFrom(file.toString()), flags, mode);
            if (fd < 0) {
                throw new Errno("cannot open " + file, errno(state));
            }
            return fd;
        } catch (Errno e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("cannot call open(2): " + t, t);
        }
    }

    /** {@code close(2)}, ignoring failures: the descriptor is gone either way. */
    public static void close(int fd) {
        try {
            int ignored = (int) Calls.CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            // nothing to do
        }
    }

    /** The calls every user of this class may need, linked on first use. */
    private static final class Calls {
        static final MethodHandle OPEN = function("open",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
                Linker.Option.firstVariadicArg(2));
        static final MethodHandle CLOSE = LINKER.downcallHandle(LINKER.defaultLookup().find("close").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        static final MethodHandle STRERROR = LINKER.downcallHandle(LINKER.defaultLookup().find("strerror").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    }
}
