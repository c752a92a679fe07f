package dev.basalt.net.host;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * nftables in process: {@code libnftables} (the library the {@code nft} command is built on,
 * Debian package {@code libnftables1}, a dependency of {@code nftables}) through the
 * foreign-function API. A script runs as one transaction exactly as {@code nft -f} would run it,
 * but without starting a process: ~0.3 ms instead of ~5-8 ms, which is most of the cost of
 * handing out a network slot. A context talks to the kernel in the network namespace of the
 * thread that made it, so each {@link NetNamespace} keeps one on its own thread. Not thread-safe:
 * one context per thread.
 */
final class Libnftables implements AutoCloseable {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIB = load();
    private static final MethodHandle NEW = handle("nft_ctx_new", FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle FREE = handle("nft_ctx_free", FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
    private static final MethodHandle BUFFER_OUTPUT = handle("nft_ctx_buffer_output", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle BUFFER_ERROR = handle("nft_ctx_buffer_error", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle OUTPUT = handle("nft_ctx_get_output_buffer", FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final MethodHandle ERROR = handle("nft_ctx_get_error_buffer", FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final MethodHandle RUN = handle("nft_run_cmd_from_buffer", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));

    private final MemorySegment ctx;

    /** What one script printed, and whether it succeeded. */
    record Result(boolean ok, String output, String error) {}

    private static SymbolLookup load() {
        try {
            return SymbolLookup.libraryLookup("libnftables.so.1", Arena.global());
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static MethodHandle handle(String name, FunctionDescriptor d) {
        return LIB == null ? null : LIB.find(name).map(s -> LINKER.downcallHandle(s, d)).orElse(null);
    }

    /** True if the library and every function used here were found. */
    static boolean available() {
        return LIB != null && NEW != null && FREE != null && BUFFER_OUTPUT != null && BUFFER_ERROR != null && OUTPUT != null
                && ERROR != null && RUN != null;
    }

    /** A context in the calling thread's network namespace. */
    Libnftables() {
        try {
            ctx = (MemorySegment) NEW.invokeExact(0);
            if (ctx.equals(MemorySegment.NULL)) {
                throw new IllegalStateException("nft_ctx_new failed");
            }
            int a = (int) BUFFER_OUTPUT.invokeExact(ctx);
            int b = (int) BUFFER_ERROR.invokeExact(ctx);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Runs {@code script} (one transaction, as {@code nft -f}). */
    Result run(String script) {
        try (Arena arena = Arena.ofConfined()) {
            int rc = (int) RUN.invokeExact(ctx, arena.allocateFrom(script));
            return new Result(rc == 0, text((MemorySegment) OUTPUT.invokeExact(ctx)), text((MemorySegment) ERROR.invokeExact(ctx)));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static String text(MemorySegment s) {
        return s.equals(MemorySegment.NULL) ? "" : s.reinterpret(Long.MAX_VALUE).getString(0);
    }

    @Override
    public void close() {
        try {
            FREE.invokeExact(ctx);
        } catch (Throwable t) {
            // freeing: nothing to do about it
        }
    }
}
