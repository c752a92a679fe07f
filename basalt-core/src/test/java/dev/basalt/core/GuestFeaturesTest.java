package dev.basalt.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.ExecRequest;
import dev.basalt.api.ExecResult;
import dev.basalt.api.SandboxSpec;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every guest kernel feature users and later Basalt features rely on, checked inside a booted VM
 * of each image: the own kernel ("default", guest/kernel/microvm.config) and the Debian cloud
 * kernel ("debian"). A kernel config change that drops a feature fails here, naming the feature.
 *
 * <p>File-system, device and proc checks run as one busybox shell script (one exec, one
 * assertion per feature); system calls (epoll, eventfd, timerfd, signalfd, futex, SysV IPC, POSIX
 * mqueues, AF_VSOCK, io_uring, seccomp filters) are called for real by a small static C probe
 * compiled on the host with gcc, because busybox cannot call them and "the symbol exists" would
 * not prove a syscall works (compiled-out syscalls still have an ENOSYS stub).
 */
@ExtendWith(RealVms.class)
class GuestFeaturesTest {

    /** The probe: prints "ok NAME" or "FAIL NAME: what" per syscall feature. */
    private static final String PROBE_C = """
            #define _GNU_SOURCE
            #include <errno.h>
            #include <fcntl.h>
            #include <linux/filter.h>
            #include <linux/futex.h>
            #include <linux/io_uring.h>
            #include <linux/seccomp.h>
            #include <linux/vm_sockets.h>
            #include <mqueue.h>
            #include <signal.h>
            #include <stdint.h>
            #include <stdio.h>
            #include <string.h>
            #include <sys/epoll.h>
            #include <sys/eventfd.h>
            #include <sys/ipc.h>
            #include <sys/msg.h>
            #include <sys/prctl.h>
            #include <sys/random.h>
            #include <sys/sem.h>
            #include <sys/shm.h>
            #include <sys/signalfd.h>
            #include <sys/socket.h>
            #include <sys/syscall.h>
            #include <sys/timerfd.h>
            #include <time.h>
            #include <unistd.h>

            static int failed;
            static void report(const char *name, int ok, const char *what) {
                if (ok) printf("ok %s\\n", name);
                else { printf("FAIL %s: %s (errno %d %s)\\n", name, what, errno, strerror(errno)); failed = 1; }
            }
            #define CHECK(name, cond) do { errno = 0; report(name, (cond), #cond); } while (0)

            int main(void) {
                uint64_t v = 0;
                int efd = eventfd(0, EFD_CLOEXEC);
                CHECK("eventfd", efd >= 0 && write(efd, &(uint64_t){3}, 8) == 8 && read(efd, &v, 8) == 8 && v == 3);

                int ep = epoll_create1(EPOLL_CLOEXEC);
                struct epoll_event ev = {.events = EPOLLIN}, out;
                CHECK("epoll", ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) == 0
                        && write(efd, &(uint64_t){1}, 8) == 8 && epoll_wait(ep, &out, 1, 1000) == 1);

                int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
                struct itimerspec its = {.it_value = {.tv_nsec = 10 * 1000 * 1000}};
                CHECK("timerfd", tfd >= 0 && timerfd_settime(tfd, 0, &its, NULL) == 0
                        && read(tfd, &v, 8) == 8 && v >= 1);

                sigset_t mask;
                sigemptyset(&mask);
                sigaddset(&mask, SIGUSR1);
                struct signalfd_siginfo si;
                int sfd = sigprocmask(SIG_BLOCK, &mask, NULL) == 0 ? signalfd(-1, &mask, SFD_CLOEXEC) : -1;
                CHECK("signalfd", sfd >= 0 && raise(SIGUSR1) == 0 && read(sfd, &si, sizeof si) == sizeof si
                        && si.ssi_signo == SIGUSR1);

                uint32_t word = 1;
                struct timespec ten_ms = {.tv_nsec = 10 * 1000 * 1000};
                long woken = syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
                long mismatch = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
                int mismatch_errno = errno;
                long timed = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 1, &ten_ms, NULL, 0);
                int timed_errno = errno;
                CHECK("futex", woken == 0 && mismatch == -1 && mismatch_errno == EAGAIN
                        && timed == -1 && timed_errno == ETIMEDOUT);

                int shm = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
                int sem = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
                int msq = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
                CHECK("sysv-ipc", shm >= 0 && sem >= 0 && msq >= 0 && shmctl(shm, IPC_RMID, NULL) == 0
                        && semctl(sem, 0, IPC_RMID) == 0 && msgctl(msq, IPC_RMID, NULL) == 0);

                struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 16};
                char buf[16];
                mqd_t q = mq_open("/basalt-probe", O_CREAT | O_RDWR, 0600, &attr);
                CHECK("posix-mqueue", q != (mqd_t)-1 && mq_send(q, "hi", 3, 0) == 0
                        && mq_receive(q, buf, sizeof buf, NULL) == 3 && mq_unlink("/basalt-probe") == 0);

                int vs = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
                CHECK("vsock-socket", vs >= 0);

                struct io_uring_params up;
                memset(&up, 0, sizeof up);
                int ring = (int)syscall(SYS_io_uring_setup, 4, &up);
                CHECK("io_uring", ring >= 0);

                char rnd[16];
                CHECK("getrandom-nonblocking", getrandom(rnd, sizeof rnd, GRND_NONBLOCK) == sizeof rnd);

                struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
                struct sock_fprog prog = {.len = 1, .filter = allow};
                CHECK("seccomp-filter", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
                        && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0);
                FILE *status = fopen("/proc/self/status", "r");
                char line[256];
                int mode = -1;
                while (status && fgets(line, sizeof line, status)) sscanf(line, "Seccomp: %d", &mode);
                CHECK("seccomp-status", mode == 2);
                return failed;
            }
            """;

    /** Feature name -> busybox shell check; exit status 0 means the feature is there. */
    private static final Map<String, String> SHELL_CHECKS = new LinkedHashMap<>();

    static {
        SHELL_CHECKS.put("ext4 in /proc/filesystems", "grep -qw ext4 /proc/filesystems");
        SHELL_CHECKS.put("overlayfs in /proc/filesystems", "grep -qw overlay /proc/filesystems");
        SHELL_CHECKS.put("tmpfs in /proc/filesystems", "grep -qw tmpfs /proc/filesystems");
        SHELL_CHECKS.put("overlay mounted on tmpfs, written through", """
                d=/tmp/ovl && mkdir -p $d && mount -t tmpfs tmpfs $d && mkdir $d/l $d/u $d/w $d/m &&
                echo base > $d/l/f &&
                mount -t overlay overlay -o lowerdir=$d/l,upperdir=$d/u,workdir=$d/w $d/m &&
                echo new > $d/m/g && echo more >> $d/m/f &&
                [ "$(cat $d/m/f)" = "$(printf 'base\\nmore')" ] && [ "$(cat $d/l/f)" = base ] &&
                [ "$(cat $d/u/g)" = new ] && umount $d/m && umount $d""");
        SHELL_CHECKS.put("devtmpfs mounted on /dev",
                "grep -qw devtmpfs /proc/filesystems && grep -q '^[^ ]* /dev devtmpfs' /proc/mounts");
        SHELL_CHECKS.put("UNIX98 PTYs: /dev/ptmx and devpts",
                "[ -c /dev/ptmx ] && grep -qw devpts /proc/filesystems && grep -q ' /dev/pts devpts' /proc/mounts");
        SHELL_CHECKS.put("cgroup v2 with memory and pids controllers", """
                c=/tmp/cg && mkdir -p $c && mount -t cgroup2 cgroup2 $c && cat $c/cgroup.controllers &&
                grep -qw memory $c/cgroup.controllers && grep -qw pids $c/cgroup.controllers &&
                echo '+memory +pids' > $c/cgroup.subtree_control && mkdir $c/probe &&
                echo 16M > $c/probe/memory.max && echo 10 > $c/probe/pids.max &&
                [ "$(cat $c/probe/pids.max)" = 10 ] && rmdir $c/probe && umount $c""");
        for (String[] ns : new String[][] {{"uts", "-u"}, {"ipc", "-i"}, {"net", "-n"}, {"pid", "-p -f"},
                {"mount", "-m"}, {"user", "-U"}}) {
            SHELL_CHECKS.put("namespace " + ns[0] + " (unshare " + ns[1] + ")", "unshare " + ns[1] + " true");
        }
        SHELL_CHECKS.put("namespace uts isolates the hostname",
                "h=$(hostname) && unshare -u sh -c 'hostname inner' && [ \"$(hostname)\" = \"$h\" ]");
        SHELL_CHECKS.put("namespace entries in /proc/self/ns",
                "for n in cgroup ipc mnt net pid user uts; do [ -e /proc/self/ns/$n ] || { echo no $n; exit 1; }; done");
        SHELL_CHECKS.put("seccomp field in /proc/self/status", "grep -q '^Seccomp:' /proc/self/status");
        for (String driver : new String[] {"virtio_console", "virtio_blk", "virtio_net"}) {
            SHELL_CHECKS.put("virtio driver " + driver, "ls /sys/bus/virtio/drivers && [ -d /sys/bus/virtio/drivers/" + driver + " ]");
        }
        SHELL_CHECKS.put("TUN: /dev/net/tun and a tap device", """
                [ -c /dev/net/tun ] && tunctl -t basalt0 && ip link show basalt0 && tunctl -d basalt0""");
        SHELL_CHECKS.put("vsock: AF_VSOCK in /proc/net/protocols", "grep -q '^AF_VSOCK' /proc/net/protocols");
        SHELL_CHECKS.put("IPv4: ping 127.0.0.1", "ping -c1 -W5 127.0.0.1");
        SHELL_CHECKS.put("IPv6: /proc/net/if_inet6 and ping ::1",
                "[ -f /proc/net/if_inet6 ] && grep -q '^0*1 ' /proc/net/if_inet6 && ping -c1 -W5 ::1");
        SHELL_CHECKS.put("SysV IPC: /proc/sysvipc", "[ -f /proc/sysvipc/shm ] && [ -f /proc/sysvipc/sem ] && [ -f /proc/sysvipc/msg ]");
        SHELL_CHECKS.put("POSIX mqueue: mount -t mqueue",
                "m=/tmp/mq && mkdir -p $m && mount -t mqueue mqueue $m && umount $m");
    }

    private static final Pattern SECTION = Pattern.compile("^@@ (\\d+) (.*)$", Pattern.MULTILINE);

    @TempDir
    static Path work;
    private static byte[] probe;

    @BeforeAll
    static void compileProbe() throws Exception {
        Path src = work.resolve("probe.c");
        Path bin = work.resolve("probe");
        Files.writeString(src, PROBE_C);
        Process gcc = new ProcessBuilder("gcc", "-static", "-O2", "-Wall", "-o", bin.toString(), src.toString())
                .redirectErrorStream(true).start();
        String log = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(gcc.waitFor(60, TimeUnit.SECONDS)).as("gcc finished").isTrue();
        assertThat(gcc.exitValue()).as("gcc -static probe.c (needs gcc and libc6-dev, as the agent does):\n%s", log)
                .isZero();
        probe = Files.readAllBytes(bin);
    }

    @Test
    void defaultImageOwnKernelHasEveryFeature(SandboxManager manager) {
        checkImage(manager, "default", "-basalt");
    }

    @Test
    void debianImageCloudKernelHasEveryFeature(SandboxManager manager) {
        checkImage(manager, "debian", "-cloud-amd64");
    }

    private static void checkImage(SandboxManager manager, String image, String releaseSuffix) {
        // a cold boot, not a template clone: the kernel itself must set the clock, find the CPUs
        // (2 vCPUs; without ACPI the own kernel reads QEMU's MP table) and bring every device up
        String id = manager.create(SandboxSpec.defaults().withImage(image).withVcpus(2).withColdBoot(true)).id();
        try {
            SoftAssertions softly = new SoftAssertions();
            String release = sh(manager, id, "uname -r").stdoutText().strip();
            softly.assertThat(release).as("%s: kernel release (is the image the kernel it claims?)", image)
                    .endsWith(releaseSuffix);
            softly.assertThat(sh(manager, id, "nproc").stdoutText().strip()).as("%s: SMP, 2 vCPUs online", image)
                    .isEqualTo("2");
            if (image.equals("default")) {
                softly.assertThat(sh(manager, id, "[ ! -e /proc/modules ]").exit().success())
                        .as("%s: everything built in (no module support, no /proc/modules)", image).isTrue();
            }

            // the wall clock is right after boot and sleep 1 takes a second
            long guestEpoch = Long.parseLong(sh(manager, id, "date +%s").stdoutText().strip());
            softly.assertThat(Math.abs(guestEpoch - Instant.now().getEpochSecond()))
                    .as("%s: guest wall clock within 2 s of the host's", image).isLessThanOrEqualTo(2);
            long start = System.nanoTime();
            ExecResult slept = sh(manager, id, "sleep 1");
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            softly.assertThat(slept.exit().success()).as("%s: sleep 1 ran", image).isTrue();
            softly.assertThat(took).as("%s: sleep 1 takes about a second (host-measured)", image)
                    .isBetween(Duration.ofMillis(950), Duration.ofMillis(2500));

            // PTYs: a command on a pseudo-terminal sees it
            ExecResult tty = manager.exec(id, ExecRequest.of("tty").withPty(true));
            softly.assertThat(tty.stdoutText()).as("%s: PTY exec runs tty on /dev/pts/N", image)
                    .contains("/dev/pts/");
            softly.assertThat(tty.exit().success()).as("%s: tty exit status on a PTY", image).isTrue();

            // shell checks: one script, one section per feature
            Map<String, String[]> results = runShellChecks(manager, id);
            SHELL_CHECKS.keySet().forEach(name -> {
                String[] r = results.get(name);
                softly.assertThat(r).as("%s: %s: check did not report", image, name).isNotNull();
                if (r != null) {
                    softly.assertThat(r[0]).as("%s: %s (exit status; output:%n%s)", image, name, r[1]).isEqualTo("0");
                }
            });

            // syscall checks: the C probe
            manager.writeFile(id, "/tmp/basalt-probe", new ByteArrayInputStream(probe), 0755);
            String probeOut = manager.exec(id, ExecRequest.of("/tmp/basalt-probe")).stdoutText();
            for (String feature : new String[] {"eventfd", "epoll", "timerfd", "signalfd", "futex", "sysv-ipc",
                    "posix-mqueue", "vsock-socket", "io_uring", "getrandom-nonblocking", "seccomp-filter",
                    "seccomp-status"}) {
                String line = probeOut.lines().filter(l -> l.matches("(ok|FAIL) " + Pattern.quote(feature) + "(:.*)?"))
                        .findFirst().orElse("(no line for " + feature + " in the probe output:\n" + probeOut + ")");
                softly.assertThat(line).as("%s: syscall feature %s", image, feature).isEqualTo("ok " + feature);
            }
            softly.assertAll();
        } finally {
            manager.remove(id);
        }
    }

    private static ExecResult sh(SandboxManager manager, String id, String script) {
        return manager.exec(id, ExecRequest.of("sh", "-c", script).withTimeout(Duration.ofSeconds(60)));
    }

    /** Runs every shell check in one exec; returns name -> {exit status, output}. */
    private static Map<String, String[]> runShellChecks(SandboxManager manager, String id) {
        StringBuilder script = new StringBuilder();
        SHELL_CHECKS.forEach((name, check) -> script.append("out=$( (\n").append(check).append("\n) 2>&1 ); rc=$?\n")
                .append("printf '@@ %s %s\\n%s\\n' \"$rc\" '").append(name.replace("'", "'\\''"))
                .append("' \"$out\"\n"));
        manager.writeFile(id, "/tmp/basalt-features.sh",
                new ByteArrayInputStream(script.toString().getBytes(StandardCharsets.UTF_8)), 0644);
        String out = sh(manager, id, "sh /tmp/basalt-features.sh").stdoutText();
        Map<String, String[]> results = new LinkedHashMap<>();
        Matcher m = SECTION.matcher(out);
        int prevEnd = -1;
        String prevName = null;
        String prevRc = null;
        while (m.find()) {
            if (prevName != null) {
                results.put(prevName, new String[] {prevRc, out.substring(prevEnd, m.start()).strip()});
            }
            prevRc = m.group(1);
            prevName = m.group(2);
            prevEnd = m.end();
        }
        if (prevName != null) {
            results.put(prevName, new String[] {prevRc, out.substring(prevEnd).strip()});
        }
        return results;
    }
}
