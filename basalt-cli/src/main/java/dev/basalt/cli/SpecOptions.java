package dev.basalt.cli;

import dev.basalt.api.SandboxSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** The options that describe a sandbox to create, shared by {@code run} and {@code create}. */
final class SpecOptions {
    @Option(names = "--image", description = "Guest image (default: ${DEFAULT-VALUE}).", defaultValue = "default")
    String image;

    @Option(names = "--kernel", description = "Boot this kernel (vmlinux) instead of the image's.")
    Path kernel;

    @Option(names = "--initrd", description = "Boot this initramfs instead of the image's (must contain the Basalt agent).")
    Path initrd;

    @Option(names = "--cpus", description = "Virtual CPUs (default: ${DEFAULT-VALUE}).", defaultValue = "1")
    int cpus;

    @Option(names = {"-m", "--memory"}, description = "Memory in MiB (default: ${DEFAULT-VALUE}).", defaultValue = "256")
    int memoryMib;

    @Option(names = {"-l", "--label"}, description = "Label KEY=VALUE (repeatable).")
    Map<String, String> labels = new LinkedHashMap<>();

    @Option(names = "--boot-timeout", description = "Seconds to wait for the guest (default: ${DEFAULT-VALUE}).", defaultValue = "60")
    int bootTimeoutSeconds;

    @Option(names = "--cold", description = "Boot the kernel instead of cloning the image's template (slower).")
    boolean cold;

    SandboxSpec toSpec() {
        return SandboxSpec.defaults().withImage(image).withKernel(kernel).withInitrd(initrd).withVcpus(cpus)
                .withMemoryMib(memoryMib).withLabels(labels).withBootTimeout(Duration.ofSeconds(bootTimeoutSeconds))
                .withColdBoot(cold);
    }
}
