package dev.basalt.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `basalt daemon` and `basalt run` as real separate processes, as a shell runs them: the daemon says
 * where it listens and logs each sandbox's lifecycle by id on stderr; Ctrl-C (SIGINT) sent to a
 * `basalt run` without -t reaches the command in the guest, which decides the exit code.
 */
class CliProcessTest {

    private static List<String> basaltCommand(String... args) {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        return command;
    }

    @Test
    void daemonLogsLifecycleAndCtrlCReachesTheCommand(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("b.sock");
        Path shm = Path.of("/dev/shm", "basalt-cli-proc-" + ProcessHandle.current().pid());
        Path daemonLog = dir.resolve("daemon.log");
        Process daemon = new ProcessBuilder(basaltCommand("daemon", "--socket", socket.toString(),
                "--images", CliTest.images().toString(), "--run-dir", Path.of("/tmp", "bcp-" + ProcessHandle.current().pid()).toString(),
                "--state-dir", dir.resolve("state").toString(), "--shm-dir", shm.toString()))
                .redirectErrorStream(true).redirectOutput(daemonLog.toFile()).start();
        try {
            await(() -> Files.exists(socket) && DaemonLogs.read(daemonLog).contains("ready on"), daemon, daemonLog);
            assertThat(DaemonLogs.read(daemonLog)).contains("basaltd ready on [unix://" + socket);

            Path runLog = dir.resolve("run.log");
            Process run = new ProcessBuilder(basaltCommand("-H", "unix:" + socket, "run", "-l", "by=cli-process", "--",
                    "sh", "-c", "trap 'echo got-int; exit 7' INT; echo ready; while :; do sleep 0.1; done"))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectErrorStream(true).redirectOutput(runLog.toFile()).start();
            try {
                await(() -> DaemonLogs.read(runLog).contains("ready"), run, runLog);
                new ProcessBuilder("sh", "-c", "kill -INT " + run.pid()).start().waitFor();   // Ctrl-C: the shell's own kill
                assertThat(run.waitFor(30, TimeUnit.SECONDS)).as("basalt run ends after Ctrl-C").isTrue();
                assertThat(DaemonLogs.read(runLog)).contains("got-int");
                assertThat(run.exitValue()).as("the command's own exit code").isEqualTo(7);
            } finally {
                run.destroyForcibly();
            }
            String log = DaemonLogs.read(daemonLog);
            Matcher created = Pattern.compile("sandbox ([0-9a-f]{12}) created").matcher(log);
            assertThat(created.find()).as(log).isTrue();
            String id = created.group(1);
            await(() -> DaemonLogs.read(daemonLog).contains("sandbox " + id + " removed"), daemon, daemonLog);
            assertThat(DaemonLogs.read(daemonLog)).contains("sandbox " + id + " ready");
            for (String line : DaemonLogs.read(daemonLog).lines().toList()) {
                if (line.contains(" sandbox ")) {
                    // a sandbox's id, or a template build's ("t" and 11 digits)
                    assertThat(line).as("a line about a sandbox names it").containsPattern("\\bt?[0-9a-f]{11,12}\\b");
                }
            }
        } finally {
            daemon.destroy();                     // SIGTERM: it stops and leaves nothing running (nothing is left)
            if (!daemon.waitFor(20, TimeUnit.SECONDS)) {
                daemon.destroyForcibly();
            }
            CliTestSupport.deleteTree(shm);
            CliTestSupport.deleteTree(Path.of("/tmp", "bcp-" + ProcessHandle.current().pid()));
        }
        assertThat(DaemonLogs.read(daemonLog)).contains("basaltd stopping");
    }

    private static void await(java.util.function.BooleanSupplier condition, Process process, Path log) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(process.isAlive()).as("still running; output: %s", DaemonLogs.read(log)).isTrue();
            assertThat(System.nanoTime()).as("within 60 s; output: %s", DaemonLogs.read(log)).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    /** Reads a log file that a child process is still writing. */
    private static final class DaemonLogs {
        static String read(Path log) {
            try {
                return Files.readString(log);
            } catch (java.io.IOException e) {
                return "";
            }
        }
    }
}
