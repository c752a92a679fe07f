package dev.basalt.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.basalt.api.ExecRequest;
import dev.basalt.api.SandboxInfo;
import dev.basalt.api.SandboxSpec;
import dev.basalt.api.SandboxState;
import dev.basalt.grpc.RemoteSandboxes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real basaltd processes: a second one started with the first one's socket, run directory or
 * state directory is refused before it touches anything, and the first one's VM stays READY and keeps
 * answering. A daemon whose user cannot write its directories says so.
 */
class SecondDaemonTest {

    @Test
    void aSecondDaemonOnTheSamePathsIsRefusedAndHarmsNothing(@TempDir Path dir) throws Exception {
        String tag = "b2-" + ProcessHandle.current().pid();
        Path socket = dir.resolve("basaltd.sock");
        Path run = Path.of("/tmp", tag);
        Path state = dir.resolve("state");
        Path shm = Path.of("/dev/shm", tag);
        Process first = DaemonProcesses.start(DaemonProcesses.command(socket, run, state, shm), dir.resolve("first.log"), socket);
        long vmmPid = 0;
        try (RemoteSandboxes client = RemoteSandboxes.unixSocket(socket)) {
            SandboxInfo info = client.create(SandboxSpec.defaults().withLabels(Map.of("by", "first")));
            vmmPid = info.vmmPid();
            Map<Path, String> before = snapshot(run, state);

            // same everything; then each shared path alone, the others private to the second daemon
            record Attempt(String what, Path socket, Path run, Path state, String expected) {}
            List<Attempt> attempts = List.of(
                    new Attempt("same paths", socket, run, state, "the socket " + socket),
                    new Attempt("same socket", socket, dir.resolve("run2"), dir.resolve("state2"), "the socket " + socket),
                    new Attempt("same run dir", dir.resolve("b2.sock"), run, dir.resolve("state3"), "the run directory " + run),
                    new Attempt("same state dir", dir.resolve("b3.sock"), dir.resolve("run4"), state,
                            "the state directory " + state));
            for (Attempt a : attempts) {
                Path log = dir.resolve("second-" + a.what().replace(' ', '-') + ".log");
                Process second = new ProcessBuilder(DaemonProcesses.command(a.socket(), a.run(), a.state(), shm))
                        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
                assertThat(second.waitFor(60, TimeUnit.SECONDS)).as("%s: refused at once", a.what()).isTrue();
                String output = Files.readString(log);
                assertThat(second.exitValue()).as(output).isEqualTo(1);
                assertThat(output).as(a.what()).contains("another basaltd (pid " + first.pid() + ") is using " + a.expected())
                        .contains("nothing was changed");
                assertThat(snapshot(run, state)).as("%s: the first daemon's files are untouched", a.what()).isEqualTo(before);
                assertThat(first.isAlive()).isTrue();
                assertThat(ProcessHandle.of(vmmPid).map(ProcessHandle::isAlive)).contains(true);
            }
            assertThat(client.inspect(info.id()).state()).isEqualTo(SandboxState.READY);
            assertThat(client.exec(info.id(), ExecRequest.of("echo", "still here")).stdoutText()).isEqualTo("still here\n");
            assertThat(Files.readString(dir.resolve("first.log"))).as("the first daemon's lifecycle log names the sandbox")
                    .contains("ready on [unix://" + socket)
                    .contains("sandbox " + info.id() + " created")
                    .contains("sandbox " + info.id() + " ready");
            client.remove(info.id());
            assertThat(Files.readString(dir.resolve("first.log"))).contains("sandbox " + info.id() + " removed");
        } finally {
            first.destroyForcibly();
            first.waitFor(10, TimeUnit.SECONDS);
            ProcessHandle.of(vmmPid).ifPresent(ProcessHandle::destroyForcibly);   // our VM, if a step failed
            GrpcVms.deleteTree(run);
            GrpcVms.deleteTree(shm);
        }
    }

    @Test
    void aDaemonWhoseUserCannotWriteItsDirectoriesSaysSo(@TempDir Path dir) throws Exception {
        // a directory only root may write, and a daemon running as nobody (its class path copied where nobody reads it)
        Path locked = Files.createDirectory(dir.resolve("root-only"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwxr-xr-x")));
        Path jars = Files.createDirectory(dir.resolve("cp"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> classPath = new ArrayList<>();
        int n = 0;
        for (String entry : System.getProperty("java.class.path").split(":")) {
            Path copy = jars.resolve((n++) + "-" + Path.of(entry).getFileName());
            DaemonProcesses.copyTree(Path.of(entry), copy);
            classPath.add(copy.toString());
        }
        List<String> command = new ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                ProcessHandle.current().info().command().orElseThrow(), "-cp", String.join(":", classPath),
                Main.class.getName(), "--socket", dir.resolve("nobody-run/nobody.sock").toString(),
                "--run-dir", dir.resolve("nobody-run").toString(), "--state-dir", locked.resolve("state").toString(),
                "--shm-dir", dir.resolve("shm").toString()));
        Files.createDirectory(dir.resolve("nobody-run"));
        Files.setOwner(dir.resolve("nobody-run"), dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody"));
        Path log = dir.resolve("nobody.log");
        Process daemon = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        try {
            assertThat(daemon.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String output = Files.readString(log);
            assertThat(daemon.exitValue()).as(output).isEqualTo(1);
            assertThat(output).contains("basaltd: cannot write the state directory " + locked.resolve("state"))
                    .contains("permission denied for user nobody").contains("--state-dir")
                    .doesNotContain("Exception");
            assertThat(locked.resolve("state")).doesNotExist();
        } finally {
            daemon.destroyForcibly();
        }
    }

    /** Every file below the daemon's directories with its content (lock files: their pid) and modification time. */
    private static Map<Path, String> snapshot(Path... dirs) throws Exception {
        Map<Path, String> files = new java.util.TreeMap<>();
        for (Path d : dirs) {
            try (Stream<Path> walk = Files.walk(d)) {
                for (Path p : walk.filter(Files::isRegularFile).toList()) {
                    FileTime mtime = Files.getLastModifiedTime(p);
                    String content = p.getFileName().toString().endsWith(".db") || p.getFileName().toString().contains(".db-")
                            ? "" : new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1);
                    files.put(p, mtime + " " + content);
                }
            }
        }
        return files;
    }
}
