package dev.basalt.cli;

import dev.basalt.api.NetworkMode;
import dev.basalt.api.NetworkPolicy;
import dev.basalt.api.SandboxSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
    private final OptionSpec net;
    private final OptionSpec allow;
    private final OptionSpec deny;
    private final OptionSpec diskSize;

    SpecOptions(Verb verb) {
        image = verb.option(String.class, "NAME", "default", "Guest image: a boot image (default: ${DEFAULT-VALUE}, busybox"
                + " in RAM) or an image of the image store on a copy-on-write disk (base, pulled, imported or built ones).",
                "--image");
        diskSize = verb.option(String.class, "SIZE", null, "Root disk of an image-store image, e.g. 8G or 512M (default:"
                + " 4G; sparse: the host spends only what the guest writes).", "--disk-size");
        kernel = verb.option(Path.class, "FILE", null, "Boot this kernel (vmlinux) instead of the image's.", "--kernel");
        initrd = verb.option(Path.class, "FILE", null,
                "Boot this initramfs instead of the image's (must contain the Basalt agent).", "--initrd");
        cpus = verb.option(int.class, "N", "1", "Virtual CPUs (default: ${DEFAULT-VALUE}).", "--cpus");
        memory = verb.option(int.class, "MiB", "256", "Memory in MiB (default: ${DEFAULT-VALUE}).", "-m", "--memory");
        labels = verb.map("KEY=VALUE", "Label KEY=VALUE (repeatable).", "-l", "--label");
        bootTimeout = verb.option(int.class, "SECONDS", "60", "Seconds to wait for the guest (default: ${DEFAULT-VALUE}).",
                "--boot-timeout");
        cold = verb.flag("Boot the kernel instead of cloning the image's template (slower).", "--cold");
        net = verb.option(String.class, "MODE", null, "Network: none (default: no NIC), open (every public address), "
                + "allow (only --allow entries), proxy (no NIC: an HTTP proxy over the agent channel).", "--net");
        allow = verb.list("ENTRY", "Reachable domain (example.com, *.example.com) or IPv4 range (203.0.113.0/24); "
                + "repeatable or comma-separated. Alone it means --net allow.", "--allow");
        deny = verb.list("ENTRY", "Refused domain or range, even if allowed; repeatable or comma-separated.", "--deny");
    }

    /** The policy of {@code --net}, {@code --allow}, {@code --deny} ({@code --allow} alone means {@code --net allow}). */
    static NetworkPolicy policy(String net, List<String> allow, List<String> deny) {
        List<String> a = split(allow);
        NetworkMode mode = net != null ? NetworkMode.parse(net) : a.isEmpty() ? NetworkMode.NONE : NetworkMode.ALLOW;
        return new NetworkPolicy(mode, NetworkPolicy.parseAll(a), NetworkPolicy.parseAll(split(deny)));
    }

    /** Entries given repeatedly and/or comma-separated. */
    static List<String> split(List<String> entries) {
        List<String> out = new ArrayList<>();
        for (String e : entries) {
            for (String part : e.split(",")) {
                if (!part.isBlank()) {
                    out.add(part.strip());
                }
            }
        }
        return out;
    }

    SandboxSpec toSpec() {
        Map<String, String> l = Verb.value(labels);
        return SandboxSpec.defaults().withImage(Verb.value(image)).withKernel(Verb.value(kernel))
                .withInitrd(Verb.value(initrd)).withVcpus(Verb.<Integer>value(cpus)).withMemoryMib(Verb.<Integer>value(memory))
                .withLabels(l).withBootTimeout(Duration.ofSeconds(Verb.<Integer>value(bootTimeout)))
                .withColdBoot(Verb.<Boolean>value(cold))
                .withNetwork(policy(Verb.value(net), Verb.value(allow), Verb.value(deny)))
                .withDiskMib(Verb.value(diskSize) == null ? 0 : sizeMib(Verb.value(diskSize), "--disk-size"));
    }

    /** A size such as {@code 8G}, {@code 512M}, {@code 1T} or a number of MiB, in MiB. */
    static int sizeMib(String text, String option) {
        var m = java.util.regex.Pattern.compile("([0-9]{1,9})([MmGgTt]?)(i?[Bb])?").matcher(text.strip());
        if (!m.matches()) {
            throw new dev.basalt.api.BasaltException.InvalidArgument(option + " wants a size such as 8G or 512M, got '"
                    + text + "'");
        }
        long n = Long.parseLong(m.group(1));
        long mib = switch (m.group(2).toUpperCase(java.util.Locale.ROOT)) {
            case "G" -> n << 10;
            case "T" -> n << 20;
            default -> n;
        };
        if (mib < 1 || mib > SandboxSpec.MAX_DISK_MIB) {
            throw new dev.basalt.api.BasaltException.InvalidArgument(option + " must be between 1M and 1T, got '" + text + "'");
        }
        return (int) mib;
    }
}
