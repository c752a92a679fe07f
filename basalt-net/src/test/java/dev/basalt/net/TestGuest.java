package dev.basalt.net;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real microVM for network tests until Basalt's own VMs get a NIC: QEMU ({@code -M microvm},
 * TCG) with the project's guest kernel, a virtio-net NIC on a slot's {@code tap0}, started inside
 * the slot's namespace, and a busybox initramfs whose {@code /init} configures {@code eth0}
 * exactly as every Basalt guest will ({@link GuestNetwork}) and then runs shell commands read from
 * the serial console. {@link #sh} runs one and returns its output and exit code.
 */
public final class TestGuest implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TestGuest.class);
    private static final String RC = "__RC=";
    private final Process qemu;
    private final OutputStream console;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final String name;

    record Result(int code, String output) {}

    private TestGuest(Process qemu, String name) {
        this.qemu = qemu;
        this.name = name;
        this.console = qemu.getOutputStream();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(qemu.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line.replace("\r", ""));
                }
            } catch (IOException e) {
                // QEMU exited
            }
            lines.add(RC + "eof");
        });
    }

    static Path kernel() {
        String dir = System.getProperty("basalt.images");
        if (dir == null || dir.isBlank() || dir.startsWith("${")) {
            dir = System.getenv("BASALT_IMAGES");
        }
        if (dir == null || dir.isBlank()) {
            dir = System.getProperty("user.home") + "/.cache/basalt/images";
        }
        Path k = Path.of(dir, "default", "vmlinux");
        if (!Files.exists(k)) {
            throw new IllegalStateException("no guest kernel at " + k + ": build the images (bin/test or bin/basalt does it)");
        }
        return k;
    }

    /** A cpio initramfs with busybox and the test /init, made once per directory. */
    static Path initramfs(Path dir) throws IOException, InterruptedException {
        Path out = dir.resolve("test-initrd.cpio");
        if (Files.exists(out)) {
            return out;
        }
        Path root = Files.createDirectories(dir.resolve("initrd-root"));
        for (String d : List.of("bin", "dev", "proc", "sys", "etc", "tmp")) {
            Files.createDirectories(root.resolve(d));
        }
        Files.copy(Path.of("/bin/busybox"), root.resolve("bin/busybox"));
        Path init = root.resolve("init");
        Files.writeString(init, """
                #!/bin/busybox sh
                /bin/busybox --install -s /bin
                mount -t proc proc /proc
                mount -t sysfs sys /sys
                mount -t devtmpfs dev /dev
                ip link set lo up
                ip link set eth0 address %1$s 2>/dev/null
                ip link set eth0 up
                ip addr add %2$s/%3$d dev eth0
                ip route add default via %4$s
                echo "nameserver %4$s" > /etc/resolv.conf
                stty -echo -onlcr 2>/dev/null
                echo GUEST-READY
                while IFS= read -r line; do
                  sh -c "$line" </dev/null 2>&1
                  echo "__RC=$?"
                done
                poweroff -f
                """.formatted(GuestNetwork.GUEST_MAC, GuestNetwork.GUEST_IP, GuestNetwork.PREFIX_LENGTH, GuestNetwork.GATEWAY_IP));
        Files.setPosixFilePermissions(init, PosixFilePermissions.fromString("rwxr-xr-x"));
        run(List.of("mknod", root.resolve("dev/console").toString(), "c", "5", "1"));
        run(List.of("sh", "-c", "cd '" + root + "' && find . | cpio -o -H newc --quiet > '" + out + "'"));
        return out;
    }

    private static void run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(cmd + " failed: " + output);
        }
    }

    /** Boots a guest whose NIC is {@code tap0} of namespace {@code slotNamespace}; returns once its shell is ready. */
    static TestGuest boot(String slotNamespace, Path dir) throws IOException, InterruptedException {
        Path initrd = initramfs(dir);
        List<String> cmd = new ArrayList<>(List.of("nsenter", "--net=/run/netns/" + slotNamespace, "setpriv", "--pdeathsig", "KILL",
                "qemu-system-x86_64", "-M", "microvm,rtc=on,acpi=off", "-accel", "tcg", "-cpu", "max,-erms", "-m", "128M", "-smp", "1",
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-kernel", kernel().toString(), "-initrd", initrd.toString(),
                "-append", "console=ttyS0 quiet panic=-1 reboot=t rdinit=/init noapictimer noreplace-smp no_timer_check" + tsc(),
                "-serial", "stdio",
                "-netdev", "tap,id=n0,ifname=" + GuestNetwork.TAP + ",script=no,downscript=no",
                "-device", "virtio-net-device,netdev=n0,mac=" + GuestNetwork.GUEST_MAC));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        TestGuest g = new TestGuest(p, slotNamespace);
        try {
            g.await("GUEST-READY", Duration.ofSeconds(60));
        } catch (IOException e) {
            g.close();
            throw e;
        }
        return g;
    }

    private static String tsc() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("cpu MHz")).findFirst()
                    .map(l -> " tsc_early_khz=" + Math.round(Double.parseDouble(l.substring(l.indexOf(':') + 1).strip()) * 1000)).orElse("");
        } catch (IOException e) {
            return "";
        }
    }

    private List<String> await(String marker, Duration timeout) throws IOException, InterruptedException {
        List<String> seen = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new IOException("guest in " + name + ": no '" + marker + "' within " + timeout + "; saw: " + seen);
            }
            if (line.equals(RC + "eof")) {
                throw new IOException("guest in " + name + " exited; saw: " + seen);
            }
            if (line.startsWith(marker)) {
                seen.add(line);
                return seen;
            }
            seen.add(line);
        }
    }

    /** Runs a shell command line in the guest (one line, no newlines) and returns its exit code and output. */
    Result sh(String command, Duration timeout) throws IOException, InterruptedException {
        console.write((command + "\n").getBytes(StandardCharsets.UTF_8));
        console.flush();
        List<String> out = await(RC, timeout);
        String last = out.removeLast();
        String text = String.join("\n", out);
        log.info("guest {}$ {}\n{}[{}]", name, command, text.isEmpty() ? "" : text + "\n", last);
        return new Result(Integer.parseInt(last.substring(RC.length()).strip()), text);
    }

    Result sh(String command) throws IOException, InterruptedException {
        return sh(command, Duration.ofSeconds(30));
    }

    @Override
    public void close() {
        qemu.destroyForcibly();
        try {
            qemu.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
