package dev.basalt.bench;

import dev.basalt.api.BasaltException;
import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.SandboxState;
import dev.basalt.grpc.RemoteSandboxes;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The hostile-guest suite: what code running as root in a sandbox can throw at the host — a fork
 * bomb, a memory hog, a disk fill, a CPU spin on every vCPU, a console flood, a stdout flood, and
 * attacks on the agent channel through a copy of the agent's port descriptor ({@code hostile.c}:
 * random bytes, a length of 0xFFFFFFFF, a truncated frame, a flood of tiny bad frames, frames
 * forged for streams that are not its own). Each attack runs in a fresh sandbox of a real basaltd
 * while a neighbour sandbox is probed with {@code exec true} ({@link NeighbourProbe}); the
 * {@link Result} says how the attacked sandbox ended, what the neighbour saw, and what the host
 * paid (the daemon's and the VM's memory, the host's available memory, log lines, console bytes).
 * Used by {@code HostileGuestTest} (assertions) and {@link HostileBench} (figures).
 */
final class HostileGuests {
    /** How an attacked sandbox may end. */
    enum Outcome { SURVIVES, FAILS, EITHER }

    /** What an attack does in sandbox {@code id}; exceptions are part of the attack's story. */
    interface Action {
        void run(RemoteSandboxes client, String id) throws Exception;
    }

    /**
     * @param needsTool the attack runs {@code /root/hostile} (uploaded first)
     */
    record Attack(String name, int vcpus, boolean needsTool, Outcome expected, Action action) {}

    /**
     * @param outcome          SURVIVES (it answers a ping), FAILS (FAILED, with {@code failure}), or
     *                         HUNG (neither within the settle time: the bug this suite exists for)
     * @param settledAfter     from the attack's start until the outcome was known
     * @param neighbourMillis  the neighbour's {@code exec true} latencies during the attack
     * @param neighbourFailures its failed calls during the attack
     * @param logLines         lines the daemon logged about the attacked sandbox during the attack
     * @param consoleBytes     the attacked sandbox's console log on disk at the end
     * @param vmPeakMib        the attacked VM's largest resident size seen (0 if never seen)
     * @param daemonPeakMib    the daemon's peak resident size so far (VmHWM)
     * @param hostMinAvailableMib the least MemAvailable seen during the attack
     */
    record Result(Attack attack, String sandbox, String outcome, String failure, Duration settledAfter,
                  List<Double> neighbourMillis, List<String> neighbourFailures, long logLines, long consoleBytes,
                  long vmPeakMib, long daemonPeakMib, long hostMinAvailableMib) {}

    private static final Duration SETTLE = Duration.ofSeconds(30);
    /** The least time the neighbour is probed per attack. */
    private static final Duration MIN_PHASE = Duration.ofSeconds(2);

    private HostileGuests() {
    }

    /** Every attack, each running for about {@code length}. */
    static List<Attack> all(Duration length) {
        long s = Math.max(1, length.toSeconds());
        ExecRequest forkBomb = ExecRequest.of("sh", "-c", "b() { b | b & }; b").withTimeout(length);
        return List.of(
                new Attack("fork bomb", 1, false, Outcome.EITHER, (c, id) -> quietly(() -> c.exec(id, forkBomb))),
                new Attack("memory hog", 1, false, Outcome.EITHER, (c, id) -> quietly(() -> c.exec(id,
                        ExecRequest.of("awk", "BEGIN { s = \"x\"; while (1) s = s s }").withTimeout(length)))),
                new Attack("disk fill", 1, false, Outcome.EITHER, (c, id) -> quietly(() -> c.exec(id,
                        ExecRequest.of("dd", "if=/dev/zero", "of=/root/fill", "bs=1M").withTimeout(length)))),
                new Attack("CPU spin on 2 vCPUs", 2, false, Outcome.SURVIVES, (c, id) -> c.exec(id,
                        ExecRequest.of("sh", "-c", "for i in 1 2; do (while :; do :; done) & done; wait").withTimeout(length))),
                new Attack("console flood", 1, false, Outcome.SURVIVES, (c, id) -> c.exec(id,
                        ExecRequest.of("sh", "-c", "yes 'console flood' > /dev/ttyS0").withTimeout(length))),
                new Attack("stdout flood", 1, false, Outcome.SURVIVES, (c, id) -> c.exec(id,
                        ExecRequest.of("yes", "stdout flood").withTimeout(length))),
                new Attack("channel: random bytes", 1, true, Outcome.FAILS, tool("garbage", "65536")),
                new Attack("channel: length 0xFFFFFFFF", 1, true, Outcome.FAILS, tool("huge")),
                new Attack("channel: truncated frame", 1, true, Outcome.FAILS, tool("truncated")),
                new Attack("channel: 2 MB of tiny bad frames", 1, true, Outcome.FAILS, tool("tiny", "2097152")),
                new Attack("channel: 100 frames forged for other streams", 1, true, Outcome.SURVIVES,
                        tool("forge", "100")),
                new Attack("channel: 5000 frames forged for other streams", 1, true, Outcome.FAILS,
                        tool("forge", "5000")));
    }

    /** Runs {@code /root/hostile ARGS...}; the channel it attacks may fail the call. */
    private static Action tool(String... args) {
        List<String> argv = new ArrayList<>(List.of("/root/hostile"));
        argv.addAll(List.of(args));
        return (c, id) -> quietly(() -> c.exec(id, ExecRequest.of(argv).withTimeout(Duration.ofSeconds(20))));
    }

    private static void quietly(Runnable r) {
        try {
            r.run();
        } catch (BasaltException e) {
            // the attack breaks the call: what counts is how the sandbox ends
        }
    }

    /** Builds {@code hostile.c} (static, so it runs in any guest) into {@code dir}; returns the binary. */
    static Path buildTool(Path dir) throws IOException, InterruptedException {
        Path source = dir.resolve("hostile.c");
        try (InputStream in = HostileGuests.class.getResourceAsStream("hostile.c")) {
            Files.copy(in, source);
        }
        Path binary = dir.resolve("hostile");
        Process gcc = new ProcessBuilder("gcc", "-static", "-O2", "-o", binary.toString(), source.toString())
                .redirectErrorStream(true).start();
        String out = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (gcc.waitFor() != 0) {
            throw new IOException("gcc could not build hostile.c: " + out);
        }
        return binary;
    }

    /** Runs {@code attack} in a fresh sandbox of {@code daemon}, the neighbour probed meanwhile; removes the sandbox. */
    static Result run(DaemonProcess daemon, RemoteSandboxes client, NeighbourProbe probe, Attack attack, byte[] tool)
            throws Exception {
        SandboxInfo info = client.create(SandboxSpec.defaults().withVcpus(attack.vcpus()));
        String id = info.id();
        try {
            if (attack.needsTool()) {
                client.writeFile(id, "/root/hostile", new ByteArrayInputStream(tool), 0755);
            }
            Sampler sampler = new Sampler(info.vmmPid(), daemon.pid());
            int logStart = daemon.logText().length();
            probe.phase(attack.name());
            long start = System.nanoTime();
            Thread attacker = Thread.ofVirtual().name("attack").start(() -> {
                try {
                    attack.action().run(client, id);
                } catch (Exception e) {
                    // counted by the outcome
                }
            });
            attacker.join(SETTLE);
            String outcome = "HUNG";
            String failure = null;
            long deadline = start + SETTLE.toNanos();
            while (System.nanoTime() < deadline) {
                SandboxInfo now = client.inspect(id);
                if (now.state() == SandboxState.FAILED) {
                    outcome = "FAILS";
                    failure = now.failure().orElse("");
                    break;
                }
                if (now.state().isLive() && answers(client, id)) {
                    outcome = "SURVIVES";
                    break;
                }
                Thread.sleep(200);
            }
            Duration settled = Duration.ofNanos(System.nanoTime() - start);
            long phaseLeft = start + MIN_PHASE.toNanos() - System.nanoTime();
            if (phaseLeft > 0) {
                Thread.sleep(Duration.ofNanos(phaseLeft));   // the neighbour gets samples from short attacks too
            }
            probe.phase("between attacks");
            sampler.close();
            String log = daemon.logText().substring(logStart);
            long logLines = log.lines().filter(l -> l.contains(id)).count();
            return new Result(attack, id, outcome, failure, settled, probe.millis(attack.name()),
                    probe.failures().stream().filter(f -> f.startsWith(attack.name() + ":")).toList(), logLines,
                    consoleBytes(daemon.runDir().resolve(id)), sampler.vmPeakMib, statusMib(daemon.pid(), "VmHWM"),
                    sampler.minAvailableMib);
        } finally {
            try {
                client.remove(id);
            } catch (BasaltException e) {
                // already gone
            }
        }
    }

    private static boolean answers(RemoteSandboxes client, String id) {
        try {
            client.ping(id, Duration.ofSeconds(5));
            return true;
        } catch (BasaltException e) {
            return false;
        }
    }

    private static long consoleBytes(Path dir) {
        long total = 0;
        for (String name : new String[] {"console.log", "console.log.1"}) {
            try {
                total += Files.size(dir.resolve(name));
            } catch (IOException e) {
                // not there
            }
        }
        return total;
    }

    /** A field of /proc/PID/status in MiB (0 if the process is gone). */
    static long statusMib(long pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // gone
        }
        return 0;
    }

    static long availableMib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemAvailable:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
                }
            }
        } catch (IOException e) {
            // not Linux
        }
        return -1;
    }

    /** Samples the attacked VM's resident size and the host's available memory twice a second. */
    private static final class Sampler implements AutoCloseable {
        private final Thread thread;
        private volatile boolean closed;
        volatile long vmPeakMib;
        volatile long minAvailableMib = Long.MAX_VALUE;

        Sampler(long vmPid, long daemonPid) {
            thread = Thread.ofVirtual().name("sampler").start(() -> {
                while (!closed) {
                    vmPeakMib = Math.max(vmPeakMib, statusMib(vmPid, "VmRSS"));
                    minAvailableMib = Math.min(minAvailableMib, availableMib());
                    try {
                        Thread.sleep(500);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
        }

        @Override
        public void close() throws InterruptedException {
            closed = true;
            thread.interrupt();
            thread.join(TimeUnit.SECONDS.toMillis(2));
        }
    }
}
