package dev.basalt.vmm;

/** The accelerator a VM runs on. */
public enum Accel {
    /** Hardware virtualization through /dev/kvm (real VT-x / AMD-V only). */
    KVM,
    /** QEMU's software emulation: works everywhere, guest CPU ~20-30x slower. */
    TCG;

    /** Lowercase name as shown to users and passed to {@code -accel}. */
    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
