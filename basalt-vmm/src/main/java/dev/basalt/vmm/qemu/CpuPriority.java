package dev.basalt.vmm.qemu;

import dev.basalt.vmm.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CPU priority of VMM processes. A VM prepared in the background for a pool starts under the
 * {@code SCHED_IDLE} policy, so refilling a pool only uses CPU time the sandboxes in use leave
 * over (a waking normal thread preempts it at once; it still progresses, with a tiny weight, on a
 * busy host); when the pool hands it out, {@link #toForeground} puts every one of its threads back
 * under the normal policy ({@code SCHED_OTHER}).
 *
 * <p>Leaving {@code SCHED_IDLE} needs {@code CAP_SYS_NICE}. Without it VMs are never started low
 * ({@link #canStartInBackground} is false), since they could not be raised again. Raising goes through
 * {@code sched_setscheduler(2)} via the foreign-function API (run the JVM with
 * {@code --enable-native-access=ALL-UNNAMED} to keep it quiet).
 */
public final class CpuPriority {
    private static final Logger log = LoggerFactory.getLogger(CpuPriority.class);
    private static final int CAP_SYS_NICE = 23;
    private static final int SCHED_OTHER = 0;
    /** A pid no process can have: sched_setscheduler fails with ESRCH and changes nothing. */
    private static final long NO_SUCH_PROCESS = -1;
    private static final boolean CAN_RAISE = hasCapSysNice();

    private CpuPriority() {
    }

    /**
     * Whether a process may start at the background priority: only if it can be raised again later.
     * Links and runs the native call once now (~15 ms the first time), not at a hand-out.
     */
    static boolean canStartInBackground() {
        if (!CAN_RAISE) {
            return false;
        }
        setNormal(NO_SUCH_PROCESS);
        return true;
    }

    /**
     * Puts every thread of process {@code pid} under the normal policy. The main thread goes
     * first, so threads it starts meanwhile inherit the new priority; a second pass catches the rest.
     * Failures are logged: a VM left low still works, only slower under load.
     */
    public static void toForeground(long pid) {
        if (!CAN_RAISE) {
            return;
        }
        int failed = setNormal(pid);
        for (int pass = 0; pass < 2; pass++) {
            try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
                for (Path task : (Iterable<Path>) tasks::iterator) {
                    failed += setNormal(Long.parseLong(task.getFileName().toString()));
                }
            } catch (IOException | NumberFormatException e) {
                log.debug("cannot list the threads of {}: {}", pid, e.getMessage());
                return;   // the process is gone
            }
        }
        if (failed > 0) {
            log.warn("could not raise the CPU priority of {} thread(s) of VMM process {}", failed, pid);
        }
    }

    private static int setNormal(long tid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = Libc.callState(arena);
            if ((int) Native.SCHED_SETSCHEDULER.invokeExact(state, (int) tid, SCHED_OTHER, Native.PRIORITY_ZERO) == 0) {
                return 0;
            }
            log.debug("sched_setscheduler({}) failed: {}", tid, Libc.describe(Libc.errno(state)));
            return 1;
        } catch (Throwable e) {
            log.debug("sched_setscheduler({}) failed: {}", tid, e.toString());
            return 1;
        }
    }

    /**
     * Read with plain (non-interruptible) I/O: the class may first be used on a thread whose interrupt
     * flag is set (a pool closing), and an NIO read would then fail and leave every later VM of the
     * process unable to start in the background.
     */
    private static boolean hasCapSysNice() {
        try (var in = new java.io.FileInputStream("/proc/self/status")) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).lines()
                    .filter(l -> l.startsWith("CapEff:")).findFirst()
                    .map(l -> (Long.parseUnsignedLong(l.substring("CapEff:".length()).strip(), 16) >>> CAP_SYS_NICE & 1) == 1)
                    .orElse(false);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Looked up on first use only, so processes that never raise a priority never touch native code. */
    private static final class Native {
        static final MethodHandle SCHED_SETSCHEDULER = Libc.function("sched_setscheduler",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        /** {@code struct sched_param} with {@code sched_priority} 0, the only value SCHED_OTHER takes. */
        static final MemorySegment PRIORITY_ZERO = Arena.global().allocate(ValueLayout.JAVA_INT);
    }
}
