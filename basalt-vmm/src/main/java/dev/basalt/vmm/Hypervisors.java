package dev.basalt.vmm;

import dev.basalt.api.BasaltException;
import java.util.ServiceLoader;

/**
 * Picks the VMM backend of this host: the one place composition roots get a {@link Hypervisor}
 * from. Backends register a {@link Provider} as a service (QEMU's is the only one today).
 */
public final class Hypervisors {
    private Hypervisors() {
    }

    /** A VMM backend's entry point, found with {@link ServiceLoader}. */
    public interface Provider {
        /** The backend's name ("qemu"). */
        String name();

        /**
         * The backend set up for this host (binary found, accelerator detected).
         *
         * @throws BasaltException.Internal if the VMM is not installed
         */
        Hypervisor detect();
    }

    /**
     * The backend for this host. For QEMU: found on {@code PATH} or named by {@code BASALT_QEMU},
     * with KVM where the CPU really has it and TCG otherwise ({@code BASALT_ACCEL} overrides).
     *
     * @throws BasaltException.Internal if no backend is on the class path or its VMM is not installed
     */
    public static Hypervisor detect() {
        return ServiceLoader.load(Provider.class, Hypervisors.class.getClassLoader()).findFirst()
                .orElseThrow(() -> new BasaltException.Internal("no VMM backend on the class path (basalt-vmm's "
                        + "META-INF/services is missing: a shaded jar must merge service files)"))
                .detect();
    }
}
