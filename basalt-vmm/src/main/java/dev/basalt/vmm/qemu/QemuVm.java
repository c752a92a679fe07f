package dev.basalt.vmm.qemu;

import dev.basalt.api.BasaltException;
import dev.basalt.vmm.Accel;
import dev.basalt.vmm.Device;
import dev.basalt.vmm.Libc;
import dev.basalt.vmm.LogFiles;
import dev.basalt.vmm.MemoryBacking;
import dev.basalt.vmm.VmConfig;
import dev.basalt.vmm.VmHandle;
import dev.basalt.vmm.agent.AgentTransport;
import dev.basalt.vmm.agent.UnixSocketTransport;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A QEMU process running one VM: either a child this process launched, or a process found again
 * after a restart of the daemon ({@link QemuHypervisor#attach}), whose exit code is then unknown (-1).
 */
final class QemuVm implements VmHandle {
    private static final Logger log = LoggerFactory.getLogger(QemuVm.class);

    private volatile VmConfig config;
    private final QemuRunDir runDir;
    private final boolean background;
    private final Path incomingState;
    private final Accel accel;
    /** The process this VM's life is tracked by: QEMU, or the launcher that supervises a confined QEMU. */
    private final ProcessHandle process;
    private final CompletableFuture<Integer> exited;
    /** Where a confined QEMU's pid is written by its launcher; null when {@link #process} is QEMU. */
    private final Path pidFile;
    private volatile long vmmPid;
    /** Completes when the console's last bytes are in its ring ({@link ConsolePump}). */
    private final CompletableFuture<Void> consoleDrained = new CompletableFuture<>();
    private volatile boolean consoleStarted;
    private volatile AutoCloseable console;
    private QmpClient qmp;

    /**
     * A VM this process launched: {@code child} is QEMU, or (with a {@code pidFile}) the launcher
     * that supervises a confined QEMU, exits as it does and wrote its pid to the file.
     */
    QemuVm(VmConfig config, QemuRunDir runDir, boolean background, Path incomingState, Accel accel, Process child,
           Path pidFile) {
        this(config, runDir, background, incomingState, accel, child.toHandle(),
                child.onExit().thenApply(Process::exitValue), pidFile);
    }

    /** A VM found running after a restart: {@code running} is QEMU itself. */
    QemuVm(VmConfig config, QemuRunDir runDir, boolean background, Path incomingState, Accel accel, ProcessHandle running) {
        this(config, runDir, background, incomingState, accel, running, running.onExit().thenApply(p -> -1), null);
    }

    private QemuVm(VmConfig config, QemuRunDir runDir, boolean background, Path incomingState, Accel accel,
                   ProcessHandle process, CompletableFuture<Integer> exited, Path pidFile) {
        this.config = config;
        this.runDir = runDir;
        this.background = background;
        this.incomingState = incomingState;
        this.accel = accel;
        this.process = process;
        // exit is reported once the console's last words (a panic, say) are in its log
        this.exited = exited.thenCompose(code -> !consoleStarted ? CompletableFuture.completedFuture(code)
                : consoleDrained.completeOnTimeout(null, ConsolePump.DRAIN.toMillis(), TimeUnit.MILLISECONDS)
                        .thenApply(v -> code));
        this.pidFile = pidFile;
        this.vmmPid = pidFile == null ? process.pid() : 0;
    }

    /** True once QEMU's own pid is known (at once, unless a confined QEMU's launcher has yet to write it). */
    boolean knowsItsPid() {
        if (vmmPid > 0) {
            return true;
        }
        try {
            String text = java.nio.file.Files.readString(pidFile).strip();
            if (text.isEmpty()) {
                return false;
            }
            vmmPid = Long.parseLong(text);
            return true;
        } catch (java.io.IOException | NumberFormatException e) {
            return false;
        }
    }

    @Override
    public VmConfig config() {
        return config;
    }

    @Override
    public Accel accel() {
        return accel;
    }

    /** QEMU's pid (a confined QEMU's as the host sees it, not its launcher's). */
    @Override
    public long pid() {
        return knowsItsPid() ? vmmPid : process.pid();
    }

    @Override
    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public CompletableFuture<Integer> exited() {
        return exited;
    }

    @Override
    public boolean awaitExit(Duration timeout) {
        try {
            exited.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            return !process.isAlive();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The QMP connection, opened on first use. */
    private synchronized QmpClient qmp() {
        if (qmp == null) {
            if (!process.isAlive()) {
                throw new BasaltException.Unavailable("VM " + config.name() + " is not running");
            }
            qmp = QmpClient.connect(runDir.qmp());
        }
        return qmp;
    }

    @Override
    public AgentTransport connectAgent(Duration timeout) throws IOException {
        Device.AgentPort port = config.devices(Device.AgentPort.class).stream().findFirst()
                .orElseThrow(() -> new BasaltException.Internal("VM " + config.name() + " has no agent port"));
        return UnixSocketTransport.connect(runDir.port(port.id()), timeout, config.name());
    }

    @Override
    public void pause() {
        qmp().execute("stop", Map.of());
    }

    @Override
    public void resume() {
        qmp().execute("cont", Map.of());
    }

    @Override
    public String ensureRunning() {
        QmpClient q = qmp();
        String status = q.execute("query-status", Map.of()).path("status").asText("");
        switch (status) {
            case "running" -> {
                return status;
            }
            case "inmigrate" -> throw new BasaltException.Unavailable("VM " + config.name()
                    + " still waits for the state it was started for: it never ran");
            default -> {
                Migration.cancelOutgoing(q);
                q.execute("cont", Map.of());
                log.info("VM {} was left {} by its previous manager: resumed", config.name(), status);
                return status;
            }
        }
    }

    @Override
    public void toForeground() {
        if (background) {
            long pid = pid();   // QEMU's threads, not a launcher's
            Thread.ofVirtual().name("raise-" + config.name()).start(() -> CpuPriority.toForeground(pid));
        }
    }

    @Override
    public void saveState(Path file) {
        Migration.save(qmp(), runDir.fdMonitor(), file, config.machine().memory().ramOutsideStream());
    }

    @Override
    public void loadState() {
        if (incomingState == null) {
            throw new IllegalStateException("VM " + config.name() + " was not started to receive a state");
        }
        // a VM mapping a template's memory file takes only the device state from the stream
        boolean fileBacked = !(config.machine().memory() instanceof MemoryBacking.Anonymous);
        Migration.load(qmp(), QemuCommandLine.STATE_FD, incomingState, fileBacked);
    }

    @Override
    public synchronized VmConfig freezeDisk(Device.Disk next) {
        Device.Disk disk = config.devices(Device.Disk.class).stream().filter(d -> d.id().equals(next.id())).findFirst()
                .orElseThrow(() -> new BasaltException.Internal("VM " + config.name() + " has no disk " + next.id()));
        if (disk.top() == null || next.top() == null || next.layers().size() != disk.layers().size() + 1) {
            throw new IllegalArgumentException("disk " + next.id() + " of VM " + config.name() + ": " + next
                    + " is not its chain with its top frozen");
        }
        Path newTop = next.top();
        String node = QemuCommandLine.topNode(next);
        try (FdMonitor monitor = FdMonitor.connect(runDir.fdMonitor())) {
            int fd = FdMonitor.Native.openReadWrite(newTop);
            int fdset;
            try {
                fdset = monitor.addFd(fd);
            } finally {
                Libc.close(fd);   // QEMU holds its own copy now
            }
            qmp().execute("blockdev-add", Map.of("driver", "qcow2", "node-name", node,
                    "file", Map.of("driver", "file", "filename", "/dev/fdset/" + fdset), "backing", NULL));
            qmp().execute("blockdev-snapshot", Map.of("node", QemuCommandLine.topNode(disk), "overlay", node));
        }
        config = config.withDevice(next);
        return config;
    }

    /** JSON null in a QMP argument map (Map.of refuses null values). */
    private static final Object NULL = com.fasterxml.jackson.databind.node.NullNode.getInstance();

    @Override
    public void kill() {
        synchronized (this) {
            if (qmp != null) {
                qmp.close();
            }
        }
        if (process.isAlive()) {
            log.debug("killing VM {} (pid {})", config.name(), pid());
            process.destroyForcibly();   // a confined QEMU dies with its launcher (parent-death signal)
        }
        boolean interrupted = false;
        while (true) {
            try {
                exited.get();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            } catch (java.util.concurrent.ExecutionException e) {
                break;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Starts keeping the serial console in its bounded log; once, when the VM's sockets exist. */
    void startConsole() {
        consoleStarted = true;
        config.devices(Device.Console.class).stream().findFirst().ifPresentOrElse(
                c -> console = ConsolePump.start(config.name(), runDir.consoleSocket(c.id()), runDir.console(c.id()),
                        consoleDrained),
                () -> consoleDrained.complete(null));
    }

    @Override
    public void detach() {
        synchronized (this) {
            if (qmp != null) {
                qmp.close();
                qmp = null;
            }
        }
        AutoCloseable c = console;
        if (c != null) {
            try {
                c.close();
            } catch (Exception e) {
                log.debug("VM {}: closing the console", config.name(), e);
            }
        }
    }

    @Override
    public String consoleTail(int maxBytes) {
        return consoleTail(config, runDir, maxBytes);
    }

    static String consoleTail(VmConfig config, QemuRunDir runDir, int maxBytes) {
        return config.devices(Device.Console.class).stream().findFirst()
                .map(c -> LogFiles.tail(runDir.console(c.id()), maxBytes)).orElse("");
    }

    @Override
    public String vmmLogTail(int maxBytes) {
        return LogFiles.tail(runDir.vmmLog(), maxBytes);
    }

    @Override
    public String toString() {
        return "QemuVm[" + config.name() + ", pid " + process.pid() + "]";
    }
}
