package dev.basalt.vmm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides between KVM and TCG. Never assumes: KVM is chosen only when the CPU flags show real
 * hardware virtualization ({@code vmx} or {@code svm}), {@code /dev/kvm} is usable, and a probe
 * confirms a KVM VM can be created. A paravirtual {@code /dev/kvm} (e.g. kvm_pvm, whose CPU has no
 * vmx/svm flag) is not enough: stock guest kernels hang under it. The environment variable or
 * system property {@code basalt.accel} ({@code kvm} / {@code tcg}) overrides the detection.
 */
public final class AccelDetector {
    private static final Logger log = LoggerFactory.getLogger(AccelDetector.class);

    private final Path cpuinfo;
    private final Path kvmDevice;
    private final Predicate<Path> kvmProbe;

    /**
     * @param kvmProbe confirms a KVM VM can actually be created (e.g. by starting QEMU with
     *                 {@code -accel kvm}); called only when the cheaper checks pass
     */
    public AccelDetector(Path cpuinfo, Path kvmDevice, Predicate<Path> kvmProbe) {
        this.cpuinfo = cpuinfo;
        this.kvmDevice = kvmDevice;
        this.kvmProbe = kvmProbe;
    }

    /** Detection result, with the reason for logs and {@code inspect}. */
    public record Decision(Accel accel, String reason) {}

    public Decision detect() {
        Optional<String> forced = Optional.ofNullable(System.getProperty("basalt.accel"))
                .or(() -> Optional.ofNullable(System.getenv("BASALT_ACCEL")))
                .map(s -> s.trim().toLowerCase(Locale.ROOT))
                .filter(s -> !s.isEmpty());
        if (forced.isPresent()) {
            return switch (forced.get()) {
                case "kvm" -> new Decision(Accel.KVM, "forced by basalt.accel=kvm");
                case "tcg" -> new Decision(Accel.TCG, "forced by basalt.accel=tcg");
                default -> throw new IllegalArgumentException(
                        "basalt.accel must be 'kvm' or 'tcg', got '" + forced.get() + "'");
            };
        }
        Decision decision = detectFromHost();
        log.info("accelerator: {} ({})", decision.accel().id(), decision.reason());
        return decision;
    }

    private Decision detectFromHost() {
        String flags;
        try {
            flags = Files.readString(cpuinfo);
        } catch (IOException e) {
            return new Decision(Accel.TCG, "cannot read " + cpuinfo + ": " + e.getMessage());
        }
        boolean hardware = flags.lines()
                .filter(l -> l.startsWith("flags"))
                .findFirst()
                .map(l -> (" " + l.substring(l.indexOf(':') + 1) + " "))
                .map(l -> l.contains(" vmx ") || l.contains(" svm "))
                .orElse(false);
        if (!hardware) {
            return new Decision(Accel.TCG, "CPU has no vmx/svm flag (no hardware virtualization)");
        }
        if (!Files.isReadable(kvmDevice) || !Files.isWritable(kvmDevice)) {
            return new Decision(Accel.TCG, kvmDevice + " is missing or not accessible");
        }
        if (!kvmProbe.test(kvmDevice)) {
            return new Decision(Accel.TCG, "a KVM VM could not be created");
        }
        return new Decision(Accel.KVM, "vmx/svm present and a KVM VM was created");
    }
}
