package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.vmm.Hypervisors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every VMM runs contained, whichever path started it: a uid of its own, no capabilities,
 * no_new_privs, QEMU's seccomp filter, new mount/pid/ipc/uts namespaces with only what it needs,
 * and cgroups that cap it. Read from /proc of the real QEMU processes.
 */
@ExtendWith(RealVms.class)
class ContainmentTest {

    /** Fields of /proc/PID/status. */
    private static Map<String, String> status(long pid) throws IOException {
        return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream()
                .map(l -> l.split(":\\s*", 2)).filter(f -> f.length == 2)
                .collect(Collectors.toMap(f -> f[0], f -> f[1], (a, b) -> a));
    }

    private static String ns(long pid, String kind) throws IOException {
        return Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/" + kind)).toString();
    }

    private static void assertContained(SandboxInfo info) throws IOException {
        long pid = info.vmmPid();
        assertThat(pid).as("VMM pid of " + info.id()).isPositive();
        Map<String, String> st = status(pid);
        String uid = st.get("Uid").split("\\s+")[0];
        assertThat(Long.parseLong(uid)).as("uid of the VMM").isGreaterThanOrEqualTo(1_000_000);
        assertThat(st.get("Uid")).matches(uid + "\\s+" + uid + "\\s+" + uid + "\\s+" + uid);
        assertThat(st.get("Gid").split("\\s+")[0]).isEqualTo(uid);
        assertThat(st.get("Groups")).isBlank();
        assertThat(st.get("CapEff")).isEqualTo("0000000000000000");
        assertThat(st.get("CapPrm")).isEqualTo("0000000000000000");
        assertThat(st.get("NoNewPrivs")).isEqualTo("1");
        assertThat(st.get("Seccomp")).isEqualTo("2");
        long self = ProcessHandle.current().pid();
        for (String kind : List.of("mnt", "pid", "ipc", "uts")) {
            assertThat(ns(pid, kind)).as(kind + " namespace of the VMM").isNotEqualTo(ns(self, kind));
        }
        String cgroups = Files.readString(Path.of("/proc/" + pid + "/cgroup"));
        assertThat(cgroups).as("cgroups of the VMM").contains("/basalt/" + info.id());
        // its root holds only what a VMM needs: no /root, /home, /etc/shadow, no sandbox but its own
        Path root = Path.of("/proc/" + pid + "/root");
        assertThat(root.resolve("etc/shadow")).doesNotExist();
        assertThat(root.resolve("home")).doesNotExist();
        assertThat(root.resolve("usr/bin")).isDirectory();
    }

    @Test
    void everyPathThatStartsAVmStartsItContained(SandboxManager manager) throws IOException {
        assumeTrue("root".equals(System.getProperty("user.name")), "containment needs root");
        SandboxInfo clone = manager.create(SandboxSpec.defaults());
        SandboxInfo cold = manager.create(SandboxSpec.defaults().withColdBoot(true));
        try {
            manager.exec(clone.id(), ExecRequest.of("sh", "-c", "echo kept > /root/k"));
            List<SandboxInfo> children = manager.fork(clone.id(), 1);
            SandboxInfo child = children.getFirst();
            for (SandboxInfo s : List.of(manager.inspect(clone.id()), manager.inspect(cold.id()), manager.inspect(child.id()))) {
                assertContained(s);
                assertThat(manager.exec(s.id(), ExecRequest.of("true")).exit().success()).isTrue();
            }
            assertThat(manager.exec(child.id(), ExecRequest.of("cat", "/root/k")).stdoutText()).isEqualTo("kept\n");
            // each VMM has a uid of its own
            var uids = java.util.stream.Stream.of(clone, cold, child).map(s -> {
                try {
                    return status(manager.inspect(s.id()).vmmPid()).get("Uid");
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).collect(Collectors.toSet());
            assertThat(uids).hasSize(3);
            // the memory cap of a template's clone: the guest's RAM twice (the template file's pages it faults in,
            // and its own copies) plus the VMM's overhead
            long pid = manager.inspect(clone.id()).vmmPid();
            String memoryLine = Files.readAllLines(Path.of("/proc/" + pid + "/cgroup")).stream()
                    .filter(l -> l.split(":")[1].equals("memory")).findFirst().orElse(null);
            if (memoryLine != null) {
                Path group = Path.of("/sys/fs/cgroup/memory", memoryLine.split(":", 3)[2]);
                assertThat(Files.readString(group.resolve("memory.limit_in_bytes")).strip())
                        .isEqualTo(Long.toString((2 * 256L + SandboxCgroups.OVERHEAD_MIB) << 20));
            }
            children.forEach(c -> manager.remove(c.id()));
        } finally {
            manager.remove(clone.id());
            manager.remove(cold.id());
        }
    }

    @Test
    void aClientNamedKernelOutsideTheAllowedDirectoriesIsRefused(@org.junit.jupiter.api.io.TempDir Path tmp) throws IOException {
        ManagerConfig config = RealVms.config().withRunRoot(tmp.resolve("run")).withStateDir(tmp.resolve("state"))
                .withShmDir(tmp.resolve("shm"));
        config = config.withContainment(config.containment().withAllowedBootDirs(List.of(config.imagesDir())));
        Path link = Files.createSymbolicLink(tmp.resolve("vmlinux"), Path.of("/etc/shadow"));
        try (SandboxManager m = new SandboxManager(config, Hypervisors.detect())) {
            for (Path kernel : List.of(Path.of("/etc/shadow"), link)) {
                assertThatThrownBy(() -> m.create(SandboxSpec.defaults().withKernel(kernel)))
                        .isInstanceOf(BasaltException.PermissionDenied.class)
                        .hasMessageContaining("outside the directories").hasMessageContaining("--allow-boot-dir");
            }
            assertThat(m.list()).isEmpty();
        }
    }

    @Test
    void theHostIsNeverPromisedMoreMemoryThanItHolds(@org.junit.jupiter.api.io.TempDir Path tmp) {
        long total = HostResources.totalMib();
        assumeTrue(total > 2048 && total < SandboxSpec.MAX_MEMORY_MIB, "a host with 2..64 GiB");
        Limits limits = new Limits(0, 0);
        int half = (int) Math.min(SandboxSpec.MAX_MEMORY_MIB, (total - Limits.HOST_RESERVE_MIB) / 2);
        SandboxSpec big = SandboxSpec.defaults().withMemoryMib(half);
        Function<SandboxSpec, ManagedSandbox> live = spec -> {
            var s = new ManagedSandbox("a" + Long.toHexString(System.nanoTime()), spec,
                    GuestImage.of("x", Path.of("/dev/null"), Path.of("/dev/null"), false, "").vmConfig("x", spec,
                            new dev.basalt.vmm.MemoryBacking.Anonymous()), tmp, Hypervisors.detect(), "test", e -> { });
            return s;
        };
        limits.check(List.of(), big);
        assertThatThrownBy(() -> limits.check(List.of(live.apply(big), live.apply(big)), big))
                .isInstanceOf(BasaltException.ResourceExhausted.class).hasMessageContaining("--max-memory");
    }
}
