package dev.basalt.vmm.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.vmm.LaunchPolicy;
import dev.basalt.vmm.LaunchPolicy.InheritedFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launcher program applies every part of a {@link LaunchPolicy} to a real process, without a shell. */
class ProcessLauncherTest {

    /** Runs {@code script} under {@code policy}; returns its output (and the launcher's messages). */
    private static String run(LaunchPolicy policy, Path dir, String script) throws Exception {
        return run(policy, dir, List.of("/bin/sh", "-c", script));
    }

    private static String run(LaunchPolicy policy, Path dir, List<String> command) throws Exception {
        Path log = dir.resolve("out.log");
        Files.deleteIfExists(log);
        Process p = ProcessLauncher.start(command, policy, null, log);
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        return Files.readString(log) + "exit=" + p.exitValue();
    }

    @Test
    void filesAreInheritedAsTheDescriptorsNamedWithTheirAccess(@TempDir Path dir) throws Exception {
        Path in = Files.writeString(dir.resolve("in"), "state bytes");
        Path out = dir.resolve("out");
        Path both = Files.writeString(dir.resolve("both"), "x");
        LaunchPolicy policy = LaunchPolicy.diesWithParent().withFiles(List.of(
                new InheritedFile(3, in, InheritedFile.Access.READ),
                new InheritedFile(7, out, InheritedFile.Access.WRITE),
                new InheritedFile(9, both, InheritedFile.Access.READ_WRITE)));
        String got = run(policy, dir, "cat <&3; echo written >&7; echo more >&9; "
                + "echo no >&3 2>/dev/null || echo read-only; ls /proc/self/fd");
        assertThat(got).startsWith("state bytes").contains("read-only").endsWith("exit=0");
        assertThat(Files.readString(out)).isEqualTo("written\n");
        assertThat(Files.readString(both)).isEqualTo("more\n");
        assertThat(Files.getPosixFilePermissions(out)).hasToString("[OWNER_READ, OWNER_WRITE]");
    }

    @Test
    void aMissingFileFailsTheStartWithTheLaunchersReason(@TempDir Path dir) throws Exception {
        LaunchPolicy policy = LaunchPolicy.diesWithParent().withFiles(List.of(
                new InheritedFile(3, dir.resolve("absent"), InheritedFile.Access.READ)));
        assertThat(run(policy, dir, "echo should-not-run"))
                .contains("basalt-launch: open " + dir.resolve("absent") + ": No such file or directory")
                .doesNotContain("should-not-run").endsWith("exit=127");
    }

    @Test
    void credentialsAreDroppedWithNoNewPrivilegesAndNoCapabilities(@TempDir Path dir) throws Exception {
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        String got = run(LaunchPolicy.diesWithParent().withRunAs(new LaunchPolicy.Credentials(65534, 65534)), dir,
                "grep -E '^(Uid|Gid|Groups|CapEff|NoNewPrivs):' /proc/self/status");
        assertThat(got).containsPattern("Uid:\\s+65534\\s+65534\\s+65534\\s+65534")
                .containsPattern("Gid:\\s+65534\\s+65534\\s+65534\\s+65534")
                .containsPattern("Groups:\\s*\\n").contains("CapEff:\t0000000000000000")
                .containsPattern("NoNewPrivs:\\s+1").endsWith("exit=0");
    }

    @Test
    void parentDeathSignalIsSetOnlyWhenAsked(@TempDir Path dir) throws Exception {
        // PR_GET_PDEATHSIG (2) asked by the launched program itself: the setting survives exec, not fork
        List<String> ask = List.of("/usr/bin/python3", "-c", "import ctypes, ctypes.util; "
                + "libc = ctypes.CDLL(ctypes.util.find_library('c')); s = ctypes.c_int(); "
                + "libc.prctl(2, ctypes.byref(s)); print(s.value)");
        String dies = run(LaunchPolicy.diesWithParent(), dir, ask);
        String lives = run(LaunchPolicy.outlivesParent(), dir, ask);
        assertThat(dies).startsWith("9\n");
        assertThat(lives).startsWith("0\n");
    }

    @Test
    void aNetworkNamespaceIsJoined(@TempDir Path dir) throws Exception {
        String ns = "basalt-launch-test-" + ProcessHandle.current().pid();
        exec("ip", "netns", "add", ns);
        try {
            Path nsFile = Path.of("/run/netns", ns);
            Object inode = Files.getAttribute(nsFile, "unix:ino");
            String got = run(LaunchPolicy.diesWithParent().withNetworkNamespace(nsFile), dir, "readlink /proc/self/ns/net");
            assertThat(got).startsWith("net:[" + inode + "]").endsWith("exit=0");
            assertThat(Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString()).isNotEqualTo("net:[" + inode + "]");
        } finally {
            exec("ip", "netns", "delete", ns);
        }
    }

    @Test
    void cgroupsAreJoinedBeforeTheProgramRuns(@TempDir Path dir) throws Exception {
        Path pids = Path.of("/sys/fs/cgroup/pids");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(pids), "no cgroup v1 pids hierarchy");
        Path group = Files.createDirectory(pids.resolve("basalt-launch-test-" + ProcessHandle.current().pid()));
        try {
            String got = run(LaunchPolicy.diesWithParent().withCgroups(List.of(group)), dir, "cat /proc/self/cgroup");
            assertThat(got).contains("pids:/" + group.getFileName()).endsWith("exit=0");
        } finally {
            Files.delete(group);
        }
    }

    @Test
    void backgroundProcessesStartUnderTheIdlePolicyWhenTheyCanBeRaised(@TempDir Path dir) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(CpuPriority.canStartInBackground(), "no CAP_SYS_NICE");
        assertThat(run(LaunchPolicy.diesWithParent().inBackground(true), dir, "chrt -p $$"))
                .contains("SCHED_IDLE").endsWith("exit=0");
        assertThat(run(LaunchPolicy.diesWithParent(), dir, "chrt -p $$")).contains("SCHED_OTHER");
    }

    private static void exec(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
    }
}
