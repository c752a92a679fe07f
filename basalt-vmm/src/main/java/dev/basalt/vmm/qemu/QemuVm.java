package dev.basalt.vmm.qemu;

import dev.basalt.api.BasaltException;
import dev.basalt.vmm.Accel;
import dev.basalt.vmm.LogFiles;
import dev.basalt.vmm.VmHandle;
import dev.basalt.vmm.VmSpec;
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

    private final VmSpec spec;
    private final Accel accel;
    private final ProcessHandle process;
    private final CompletableFuture<Integer> exited;
    private QmpClient qmp;

    /** A VM this process launched. */
    QemuVm(VmSpec spec, Accel accel, Process child) {
        this(spec, accel, child.toHandle(), child.onExit().thenApply(Process::exitValue));
    }

    /** A VM found running after a restart. */
    QemuVm(VmSpec spec, Accel accel, ProcessHandle running) {
        this(spec, accel, running, running.onExit().thenApply(p -> -1));
    }

    private QemuVm(VmSpec spec, Accel accel, ProcessHandle process, CompletableFuture<Integer> exited) {
        this.spec = spec;
        this.accel = accel;
        this.process = process;
        this.exited = exited;
    }

    @Override
    public VmSpec spec() {
        return spec;
    }

    @Override
    public Accel accel() {
        return accel;
    }

    @Override
    public long pid() {
        return process.pid();
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
                throw new BasaltException.Unavailable("VM " + spec.name() + " is not running");
            }
            qmp = QmpClient.connect(spec.qmpSocket());
        }
        return qmp;
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
    public void toForeground() {
        if (spec.background()) {
            long pid = pid();
            Thread.ofVirtual().name("raise-" + spec.name()).start(() -> CpuPriority.toForeground(pid));
        }
    }

    @Override
    public void saveState(Path file) {
        Migration.save(qmp(), spec.fdMonitorSocket(), file, spec.memory().ramOutsideStream());
    }

    @Override
    public void loadState(boolean ramInStream) {
        if (spec.incoming() == null) {
            throw new IllegalStateException("VM " + spec.name() + " was not launched to receive a state");
        }
        Migration.load(qmp(), spec.incoming(), !ramInStream);
    }

    @Override
    public void kill() {
        synchronized (this) {
            if (qmp != null) {
                qmp.close();
            }
        }
        if (process.isAlive()) {
            log.debug("killing VM {} (pid {})", spec.name(), process.pid());
            process.destroyForcibly();
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

    @Override
    public String vmmLogTail(int maxBytes) {
        return LogFiles.tail(spec.vmmLog(), maxBytes);
    }

    @Override
    public String toString() {
        return "QemuVm[" + spec.name() + ", pid " + process.pid() + "]";
    }
}
