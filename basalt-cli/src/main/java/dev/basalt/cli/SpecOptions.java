package dev.basalt.cli;

import dev.basalt.api.SandboxSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine.Model.OptionSpec;

/** The options that describe a sandbox to create, shared by {@code run} and {@code create}. */
final class SpecOptions {
    private final OptionSpec image;
    private final OptionSpec kernel;
    private final OptionSpec initrd;
    private final OptionSpec cpus;
    private final OptionSpec memory;
    private final OptionSpec labels;
    private final OptionSpec bootTimeout;
    private final OptionSpec cold;

    SpecOptions(Verb verb) {
        image = verb.option(String.class, "NAME", "default", "Guest image (default: ${DEFAULT-VALUE}).", "--image");
        kernel = verb.option(Path.class, "FILE", null, "Boot this kernel (vmlinux) instead of the image's.", "--kernel");
        initrd = verb.option(Path.class, "FILE", null,
                "Boot this initramfs instead of the image's (must contain the Basalt agent).", "--initrd");
        cpus = verb.option(int.class, "N", "1", "Virtual CPUs (default: ${DEFAULT-VALUE}).", "--cpus");
        memory = verb.option(int.class, "MiB", "256", "Memory in MiB (default: ${DEFAULT-VALUE}).", "-m", "--memory");
        labels = verb.map("KEY=VALUE", "Label KEY=VALUE (repeatable).", "-l", "--label");
        bootTimeout = verb.option(int.class, "SECONDS", "60", "Seconds to wait for the guest (default: ${DEFAULT-VALUE}).",
                "--boot-timeout");
        cold = verb.flag("Boot the kernel instead of cloning the image's template (slower).", "--cold");
    }

    SandboxSpec toSpec() {
        Map<String, String> l = Verb.value(labels);
        return SandboxSpec.defaults().withImage(Verb.value(image)).withKernel(Verb.value(kernel))
                .withInitrd(Verb.value(initrd)).withVcpus(Verb.<Integer>value(cpus)).withMemoryMib(Verb.<Integer>value(memory))
                .withLabels(l).withBootTimeout(Duration.ofSeconds(Verb.<Integer>value(bootTimeout)))
                .withColdBoot(Verb.<Boolean>value(cold));
    }
}
