package dev.basalt.vmm.qemu;

import dev.basalt.vmm.LaunchPolicy;
import dev.basalt.vmm.LaunchPolicy.InheritedFile;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Starts VMM processes as a {@link LaunchPolicy} says, through the {@link NativeLauncher} (which
 * opens inherited descriptors, joins cgroups and namespaces, lowers the CPU policy, drops
 * credentials and sets the parent-death signal, then execs: no shell).
 *
 * <p>The kernel's parent-death signal ({@code PR_SET_PDEATHSIG}) fires when the <em>thread</em>
 * that forked the child ends, not only the process. So every child is forked from one dedicated
 * platform thread that lives as long as the JVM; a child then gets SIGKILL exactly when the JVM
 * dies, even by {@code kill -9}.
 */
final class ProcessLauncher {
    private static final ExecutorService FORKER = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "basalt-process-launcher");
        t.setDaemon(true);
        return t;
    });

    private ProcessLauncher() {
    }

    /**
     * Starts {@code command} under {@code policy}, with stdin from /dev/null and stdout+stderr
     * appended to {@code log}. Without a jail the process's pid is the command's (the launcher execs
     * it); in a {@code jail} the process is the launcher, which stays outside as the command's parent
     * and exits as it does, and the command's pid is written to the jail's pid file.
     */
    static Process start(List<String> command, LaunchPolicy policy, Jail jail, Path log) throws IOException {
        List<String> full = new ArrayList<>();
        full.add(NativeLauncher.path().toString());
        full.addAll(launcherOptions(policy));
        if (jail != null) {
            full.addAll(jail.launcherOptions());
            full.addAll(List.of("--gid", Integer.toString(jail.uid()), "--uid", Integer.toString(jail.uid())));
        }
        full.add("--");
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
            // the forker thread starts it all the same: end it, and wait until it is gone, so that the
            // caller may delete what it would have written into (its log, its run directory)
            endUninterruptibly(started);
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting " + command.getFirst(), e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof java.io.UncheckedIOException u) {
                throw u.getCause();
            }
            throw new IOException("cannot start " + command.getFirst() + ": " + e.getCause(), e.getCause());
        }
    }

    /** Waits (not to be interrupted) for a start to finish, kills what it started and waits for its end. */
    private static void endUninterruptibly(CompletableFuture<Process> started) {
        Process process = null;
        boolean done = false;
        while (!done) {
            try {
                process = started.get();
                done = true;
            } catch (InterruptedException again) {
                // keep waiting: the start takes milliseconds
            } catch (ExecutionException failed) {
                return;   // nothing was started
            }
        }
        process.destroyForcibly();
        while (true) {
            try {
                process.waitFor();
                return;
            } catch (InterruptedException again) {
                // keep waiting: a SIGKILLed process ends at once
            }
        }
    }

    /** The launcher's options for {@code policy} (see basalt-launch.c). */
    static List<String> launcherOptions(LaunchPolicy policy) {
        List<String> o = new ArrayList<>();
        for (InheritedFile f : policy.files()) {
            String mode = switch (f.access()) {
                case READ -> "r";
                case WRITE -> "w";
                case READ_WRITE -> "rw";
                case CREATE_READ_WRITE -> "rwc";
                case TAP -> "tap";
            };
            o.addAll(List.of("--fd", f.fd() + ":" + mode + ":" + f.path()));
        }
        for (Path cgroup : policy.cgroups()) {
            o.addAll(List.of("--cgroup", cgroup.toString()));
        }
        if (policy.networkNamespace() != null) {
            o.addAll(List.of("--netns", policy.networkNamespace().toString()));
        }
        if (policy.background() && CpuPriority.canStartInBackground()) {
            o.add("--idle");
        }
        if (policy.runAs() != null) {
            o.addAll(List.of("--gid", Integer.toString(policy.runAs().gid()), "--uid", Integer.toString(policy.runAs().uid())));
        }
        if (policy.dieWithParent()) {
            o.add("--pdeathsig");
        }
        return o;
    }
}
