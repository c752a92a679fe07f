package dev.basalt.vmm;

import java.nio.file.Path;

/**
 * A VMM backend: builds VMs from a {@link VmConfig}. It owns everything backend-specific: the
 * device models, the control sockets in the VM's run directory and the agent channel's host end
 * ({@link VmHandle#connectAgent}). The QEMU backend is the only one today; {@link Hypervisors}
 * picks it.
 */
public interface Hypervisor {

    /** The accelerator this backend uses for every VM it launches. */
    Accel accel();

    /** The VMM's version: saved states load only into the same version. */
    String version();

    /**
     * Starts a VM that boots its kernel. Returns once the VMM process runs and its sockets exist;
     * the guest boots on in the background (readiness is the guest agent's answer, checked by the
     * caller).
     *
     * @param runDir an existing, private directory for the VM's sockets and logs
     * @throws dev.basalt.api.BasaltException.Internal if the VMM cannot be started
     */
    VmHandle boot(VmConfig config, Path runDir, LaunchPolicy policy);

    /**
     * Starts a VM that waits, paused, for the saved state in {@code state} (written by
     * {@link VmHandle#saveState} from a VM of the same {@linkplain VmConfig#shape shape}); load it
     * with {@link VmHandle#loadState()}. The VMM inherits the file open, so loading needs no
     * helper process.
     *
     * @throws dev.basalt.api.BasaltException.Internal if the VMM cannot be started
     */
    VmHandle startForState(VmConfig config, Path runDir, LaunchPolicy policy, Path state);

    /**
     * Takes charge of a VM launched earlier (by a previous run of the daemon) from {@code config}
     * in {@code runDir} that still runs as {@code pid}: the pid must be alive and its command line
     * must name the run directory.
     *
     * @throws dev.basalt.api.BasaltException.NotFound if it is gone or the pid now belongs to something else
     */
    VmHandle attach(VmConfig config, Path runDir, long pid);

    /**
     * The tail of the serial console of the VM of {@code config} in {@code runDir}, at most
     * {@code maxBytes}; empty if it has none. Allowed whether or not the VM runs.
     */
    String consoleTail(VmConfig config, Path runDir, int maxBytes);
}
