package dev.basalt.vmm;

/** A VMM backend that boots VMs. The QEMU backend is the only one today. */
public interface Hypervisor {

    /** The accelerator this backend uses for every VM it launches. */
    Accel accel();

    /** The VMM's version: saved states load only into the same version. */
    String version();

    /**
     * Starts a VM. Returns once the VMM process runs and its sockets exist; the guest boots on
     * in the background (readiness is the guest agent's answer, checked by the caller).
     *
     * @throws dev.basalt.api.BasaltException.Internal if the VMM cannot be started
     */
    VmHandle launch(VmSpec spec);

    /**
     * Takes charge of a VM launched earlier (by a previous run of the daemon) that still runs as
     * {@code pid}: the pid must be alive and its command line must name the spec's run directory.
     *
     * @throws dev.basalt.api.BasaltException.NotFound if it is gone or the pid now belongs to something else
     */
    VmHandle attach(VmSpec spec, long pid);
}
