package dev.basalt.vmm.qemu;

import dev.basalt.api.BasaltException;
import dev.basalt.vmm.Accel;
import dev.basalt.vmm.AccelDetector;
import dev.basalt.vmm.Hypervisor;
import dev.basalt.vmm.Hypervisors;
import dev.basalt.vmm.LaunchPolicy;
import dev.basalt.vmm.VmConfig;
import dev.basalt.vmm.VmHandle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The QEMU backend: one {@code qemu-system-x86_64 -M microvm} process per VM. */
public final class QemuHypervisor implements Hypervisor {
    /** The backend's entry for {@link Hypervisors#detect()}. */
    public static final class Provider implements Hypervisors.Provider {
        @Override
        public String name() {
            return "qemu";
        }

        @Override
        public Hypervisor detect() {
            return QemuHypervisor.detect();
        }
    }

    private static final Logger log = LoggerFactory.getLogger(QemuHypervisor.class);
    private static final long SOCKET_WAIT_MILLIS = 10_000;
    /** basalt-launch's exit code when a confined VMM's uid lock is held by another VMM. */
    private static final int LAUNCHER_UID_TAKEN = 75;
    private static final int MAX_UID_ATTEMPTS = 64;

    private final String qemuBinary;
    private final AccelDetector.Decision accel;
    private final QemuCommandLine commandLine;
    private final Jailer jailer;
    private volatile String version;

    public QemuHypervisor(String qemuBinary, AccelDetector.Decision accel, long hostTscKhz) {
        this.qemuBinary = qemuBinary;
        this.accel = accel;
        this.commandLine = new QemuCommandLine(qemuBinary, accel.accel(), hostTscKhz);
        this.jailer = new Jailer(qemuBinary, accel.accel());
    }

    /** Finds QEMU on this host and detects the accelerator. */
    public static QemuHypervisor detect() {
        String binary = findQemu();
        AccelDetector detector = new AccelDetector(Path.of("/proc/cpuinfo"), Path.of("/dev/kvm"),
                dev -> probeKvm(binary));
        return new QemuHypervisor(binary, detector.detect(), HostCpu.tscKhz());
    }

    private static String findQemu() {
        String override = System.getProperty("basalt.qemu", System.getenv("BASALT_QEMU"));
        if (override != null && !override.isBlank()) {
            return override;
        }
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path candidate = Path.of(dir, "qemu-system-x86_64");
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        throw new BasaltException.Internal("qemu-system-x86_64 not found in PATH: install the Debian package "
                + "qemu-system-x86 (bin/basalt and bin/test do this when run as root)");
    }

    /** Starts QEMU with KVM on an empty machine and checks that it comes up. */
    private static boolean probeKvm(String binary) {
        try {
            Process p = new ProcessBuilder(binary, "-M", "microvm", "-accel", "kvm", "-nodefaults",
                    "-display", "none", "-S", "-qmp", "stdio")
                    .redirectErrorStream(true).start();
            p.getOutputStream().write("{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"quit\"}\n".getBytes());
            p.getOutputStream().flush();
            boolean done = p.waitFor(10, TimeUnit.SECONDS);
            if (!done) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public Accel accel() {
        return accel.accel();
    }

    @Override
    public String version() {
        String v = version;
        if (v == null) {
            v = queryVersion(qemuBinary);
            version = v;
        }
        return v;
    }

    private static String queryVersion(String binary) {
        try {
            Process p = new ProcessBuilder(binary, "--version").redirectErrorStream(true).start();
            String first = new String(p.getInputStream().readAllBytes()).lines().findFirst().orElse("");
            p.waitFor();
            return first.replace("QEMU emulator version ", "").strip();
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot run " + binary + " --version: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BasaltException.Internal("interrupted while asking QEMU for its version");
        }
    }

    /** Why this accelerator was chosen. */
    public String accelReason() {
        return accel.reason();
    }

    /** The exact command line that starts {@code config} in {@code runDir} (for diagnostics and baselines). */
    public List<String> commandLine(VmConfig config, Path runDir) {
        return commandLine.build(config, new QemuRunDir(runDir), null, false, true).args();
    }

    @Override
    public VmHandle boot(VmConfig config, Path runDir, LaunchPolicy policy) {
        return launch(config, new QemuRunDir(runDir), policy, null);
    }

    @Override
    public VmHandle startForState(VmConfig config, Path runDir, LaunchPolicy policy, Path state) {
        return launch(config, new QemuRunDir(runDir), policy, java.util.Objects.requireNonNull(state, "state"));
    }

    private VmHandle launch(VmConfig config, QemuRunDir runDir, LaunchPolicy policy, Path incomingState) {
        boolean confined = policy.confinement() != null;
        QemuCommandLine.Launch launch = commandLine.build(config, runDir, incomingState, confined, policy.seccomp());
        LaunchPolicy full = policy.withFiles(launch.files());
        log.debug("starting VM {}: {}", config.name(), String.join(" ", launch.args()));
        for (int attempt = 1; ; attempt++) {
            Jail jail = confined ? jailer.plan(runDir, Jailer.candidateUid(policy.confinement()), policy.confinement()) : null;
            Process process;
            try {
                process = ProcessLauncher.start(launch.args(), full, jail, runDir.vmmLog());
            } catch (IOException e) {
                throw new BasaltException.Internal("cannot start " + qemuBinary + ": " + e.getMessage(), e);
            }
            QemuVm vm = new QemuVm(config, runDir, policy.background(), incomingState, accel.accel(), process,
                    jail == null ? null : jail.pidFile());
            try {
                awaitStart(vm, config, runDir);
                vm.startConsole();
                return vm;
            } catch (UidTaken e) {
                if (attempt >= MAX_UID_ATTEMPTS) {
                    throw new BasaltException.Unavailable("no free uid for a confined VM after " + attempt
                            + " tries in " + policy.confinement().uidLocks() + ": too many VMs run at once");
                }
            }
        }
    }

    /** The launcher said the uid it was given is held by another VMM. */
    private static final class UidTaken extends RuntimeException {
        UidTaken() {
            super(null, null, false, false);
        }
    }

    @Override
    public VmHandle attach(VmConfig config, Path runDir, long pid) {
        ProcessHandle process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive).orElseThrow(() ->
                new BasaltException.NotFound("VM " + config.name() + " (pid " + pid + ") is not running any more"));
        boolean ours = process.info().arguments()
                .map(args -> String.join(" ", args).contains(runDir.toString()))
                .orElse(false);
        if (!ours) {
            throw new BasaltException.NotFound("pid " + pid + " is no longer the VM of " + config.name()
                    + " (its command line does not name " + runDir + ")");
        }
        QemuVm vm = new QemuVm(config, new QemuRunDir(runDir), false, null, accel.accel(), process);
        vm.startConsole();
        return vm;
    }

    @Override
    public String consoleTail(VmConfig config, Path runDir, int maxBytes) {
        return QemuVm.consoleTail(config, new QemuRunDir(runDir), maxBytes);
    }

    /**
     * QEMU creates its listening sockets before the guest starts; wait for them (and a confined
     * VMM's pid) or for an early exit.
     *
     * @throws UidTaken if the launcher found the confined VMM's uid taken
     */
    private static void awaitStart(QemuVm vm, VmConfig config, QemuRunDir runDir) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SOCKET_WAIT_MILLIS);
        List<Path> sockets = new java.util.ArrayList<>(List.of(runDir.qmp()));
        config.devices(dev.basalt.vmm.Device.AgentPort.class).forEach(p -> sockets.add(runDir.port(p.id())));
        while (!(sockets.stream().allMatch(Files::exists) && vm.knowsItsPid())) {
            if (!vm.isAlive()) {
                int code = vm.exited().join();
                vm.kill();
                if (code == LAUNCHER_UID_TAKEN) {
                    throw new UidTaken();
                }
                throw new BasaltException.Internal("QEMU exited at start-up (exit code " + code
                        + "): " + vm.vmmLogTail(2000).strip());
            }
            if (System.nanoTime() > deadline) {
                vm.kill();
                throw new BasaltException.Internal("QEMU did not create its sockets within "
                        + SOCKET_WAIT_MILLIS + " ms: " + vm.vmmLogTail(2000).strip());
            }
            Thread.onSpinWait();
            try {
                Thread.sleep(0, 200_000);
            } catch (InterruptedException e) {
                vm.kill();
                Thread.currentThread().interrupt();
                throw new BasaltException.Internal("interrupted while starting VM " + config.name());
            }
        }
    }
}
