package dev.basalt.vmm.qemu;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Starts child processes so that they die with this JVM when asked to.
 *
 * <p>The kernel's parent-death signal ({@code PR_SET_PDEATHSIG}, set here through
 * {@code setpriv --pdeathsig KILL}) fires when the <em>thread</em> that forked the child ends, not
 * only the process. So every such child is forked from one dedicated platform thread that lives as
 * long as the JVM; a child then gets SIGKILL exactly when the JVM dies, even by {@code kill -9}.
 */
public final class ProcessLauncher {
    private static final ExecutorService FORKER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "basalt-process-launcher");
        t.setDaemon(true);
        return t;
    });
    private static final String SETPRIV = "/usr/bin/setpriv";
    /** The descriptor number of {@code start}'s inherited file. */
    public static final int INHERITED_FD = 3;

    private ProcessLauncher() {
    }

    /**
     * Starts {@code command} with stdin from /dev/null and stdout+stderr appended to {@code log}.
     *
     * @param inherited     a file the process gets open for reading as descriptor {@value #INHERITED_FD}
     *                      (through {@code sh -c 'exec "$@" 3<file'}: the JDK passes no other
     *                      descriptors), or null. Not stdin: a process that closes its stdin frees
     *                      descriptor 0 for its next pipe, which QEMU's {@code exec:} helpers then lose
     * @param dieWithParent SIGKILL the child when this JVM dies
     * @param background    start it at a low CPU priority ({@link CpuPriority})
     */
    public static Process start(List<String> command, Path inherited, Path log, boolean dieWithParent,
                                boolean background) throws IOException {
        List<String> full = new ArrayList<>();
        if (dieWithParent && Files.isExecutable(Path.of(SETPRIV))) {
            full.addAll(List.of(SETPRIV, "--pdeathsig", "KILL", "--"));
        }
        if (background) {
            full.addAll(CpuPriority.backgroundPrefix());
        }
        if (inherited != null) {
            full.addAll(List.of("/bin/sh", "-c", "exec \"$@\" " + INHERITED_FD + "<\"$0\"", inherited.toString()));
        }
        full.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(full)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .redirectErrorStream(true);
        CompletableFuture<Process> started = CompletableFuture.supplyAsync(() -> {
            try {
                return pb.start();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, FORKER);
        try {
            return started.get();
        } catch (InterruptedException e) {
            // the forker thread starts it all the same: end it then, so that nothing is left behind
            started.thenAccept(Process::destroyForcibly);
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting " + command.getFirst(), e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof java.io.UncheckedIOException u) {
                throw u.getCause();
            }
            throw new IOException("cannot start " + command.getFirst() + ": " + e.getCause(), e.getCause());
        }
    }
}
