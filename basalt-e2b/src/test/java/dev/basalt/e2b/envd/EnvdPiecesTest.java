package dev.basalt.e2b.envd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.basalt.api.BasaltException;
import dev.basalt.api.ExitStatus;
import dev.basalt.api.FileInfo;
import dev.basalt.api.FileType;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The small translations envd needs: paths, users, entries, exit statuses, signals. */
class EnvdPiecesTest {

    @Test
    void downloadsAreGzippedOnlyWhenTheClientAsksForGzip() {
        assertThat(FilesEndpoint.acceptsGzip("gzip")).as("E2B's SDK with gzip: true").isTrue();
        assertThat(FilesEndpoint.acceptsGzip("GZIP;q=1, identity")).isTrue();
        assertThat(FilesEndpoint.acceptsGzip("gzip, deflate")).as("what every fetch() sends").isFalse();
        assertThat(FilesEndpoint.acceptsGzip("gzip, deflate, br")).isFalse();
        assertThat(FilesEndpoint.acceptsGzip("gzip;q=0")).isFalse();
        assertThat(FilesEndpoint.acceptsGzip("gzip;q=0.0, identity")).isFalse();
        assertThat(FilesEndpoint.acceptsGzip("br;q=0, gzip")).isTrue();
        assertThat(FilesEndpoint.acceptsGzip("identity")).isFalse();
        assertThat(FilesEndpoint.acceptsGzip(null)).isFalse();
        assertThat(FilesEndpoint.acceptsGzip(" , ")).isFalse();
    }

    @Test
    void pathsResolveAgainstTheHomeAndNeverClimbAboveRoot() {
        assertThat(GuestPaths.resolve("notes.txt", "/home/user")).isEqualTo("/home/user/notes.txt");
        assertThat(GuestPaths.resolve("~/a/../b", "/home/user")).isEqualTo("/home/user/b");
        assertThat(GuestPaths.resolve("~", "/home/user")).isEqualTo("/home/user");
        assertThat(GuestPaths.resolve("/a//b/./c/", "/root")).isEqualTo("/a/b/c");
        assertThat(GuestPaths.resolve("/../../etc/passwd", "/root")).isEqualTo("/etc/passwd");
        assertThatThrownBy(() -> GuestPaths.resolve("", "/root")).isInstanceOf(BasaltException.InvalidArgument.class);
        assertThatThrownBy(() -> GuestPaths.resolve("a\0b", "/root")).isInstanceOf(BasaltException.InvalidArgument.class);
        assertThat(GuestPaths.parent("/a/b")).isEqualTo("/a");
        assertThat(GuestPaths.parent("/a")).isEqualTo("/");
        assertThat(GuestPaths.name("/a/b.txt")).isEqualTo("b.txt");
    }

    @Test
    void passwdLinesAndUserNames() {
        PasswdEntry user = PasswdEntry.parse("user:x:1000:1001:A User:/home/user:/bin/bash");
        assertThat(user).isEqualTo(new PasswdEntry("user", 1000, 1001, "/home/user", "/bin/bash"));
        assertThat(user.asGuestUser()).isEqualTo(new dev.basalt.api.GuestUser(1000, 1001));
        assertThat(PasswdEntry.ROOT.asGuestUser()).isNull();
        assertThat(PasswdEntry.parse("broken:x:abc:0::/:/bin/sh")).isNull();
        assertThat(PasswdEntry.parse("short:x:1")).isNull();
        assertThatThrownBy(() -> PasswdEntry.checkName("../etc")).isInstanceOf(BasaltException.InvalidArgument.class);
        assertThatThrownBy(() -> PasswdEntry.checkName("Root")).isInstanceOf(BasaltException.InvalidArgument.class);
        assertThat(Envd.basicUser("Basic dXNlcjo=")).isEqualTo("user");
        assertThat(Envd.basicUser(null)).isNull();
        assertThatThrownBy(() -> Envd.basicUser("Basic !!!")).isInstanceOf(BasaltException.InvalidArgument.class);
    }

    @Test
    void entriesLookLikeEnvds() {
        var entry = Entries.of(new FileInfo("/tmp/x.sh", FileType.FILE, 04755, 12, Instant.parse("2026-01-02T03:04:05.678Z")));
        assertThat(entry.name()).isEqualTo("x.sh");
        assertThat(entry.type()).isEqualTo("FILE_TYPE_FILE");
        assertThat(entry.permissions()).isEqualTo("-rwsr-xr-x");
        assertThat(entry.modifiedTime()).isEqualTo("2026-01-02T03:04:05.678Z");
        assertThat(Entries.permissions(FileType.DIRECTORY, 01777)).isEqualTo("drwxrwxrwt");
        assertThat(Entries.permissions(FileType.SYMLINK, 0)).isEqualTo("l---------");
    }

    @Test
    void exitStatusesInGoWording() {
        assertThat(TrackedProcess.endEvent(new ExitStatus.Exited(0)))
                .isEqualTo(new ProcessMessages.EndEvent(0, true, "exit status 0", null));
        assertThat(TrackedProcess.endEvent(new ExitStatus.Exited(3)).error()).isEqualTo("exit status 3");
        assertThat(TrackedProcess.endEvent(new ExitStatus.Signaled(9)))
                .isEqualTo(new ProcessMessages.EndEvent(-1, false, "signal: killed", "signal: killed"));
        assertThat(TrackedProcess.endEvent(new ExitStatus.TimedOut()).exitCode()).isEqualTo(-1);
    }

    @Test
    void signalsByNameOrNumber() {
        assertThat(ProcessService.signal(TextNode.valueOf("SIGNAL_SIGKILL"))).isEqualTo(9);
        assertThat(ProcessService.signal(IntNode.valueOf(15))).isEqualTo(15);
        assertThatThrownBy(() -> ProcessService.signal(IntNode.valueOf(19))).isInstanceOf(BasaltException.InvalidArgument.class);
        assertThatThrownBy(() -> ProcessService.signal(null)).isInstanceOf(BasaltException.InvalidArgument.class);
    }

    @Test
    void snapshotsDiffIntoEvents() {
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        var before = new DirSnapshot("/w", Map.of(
                "a", new FileInfo("/w/a", FileType.FILE, 0644, 1, t),
                "b", new FileInfo("/w/b", FileType.FILE, 0644, 1, t),
                "c", new FileInfo("/w/c", FileType.FILE, 0644, 1, t)));
        var after = new DirSnapshot("/w", Map.of(
                "a", new FileInfo("/w/a", FileType.FILE, 0644, 2, t),
                "c", new FileInfo("/w/c", FileType.FILE, 0600, 1, t),
                "d", new FileInfo("/w/d", FileType.DIRECTORY, 0755, 0, t)));
        assertThat(before.changesTo(after, false)).extracting(e -> e.type() + ":" + e.name())
                .containsExactlyInAnyOrder("EVENT_TYPE_WRITE:a", "EVENT_TYPE_REMOVE:b", "EVENT_TYPE_CHMOD:c", "EVENT_TYPE_CREATE:d");
        assertThat(before.changesTo(after, true)).filteredOn(e -> e.name().equals("d")).first()
                .satisfies(e -> assertThat(e.entry().type()).isEqualTo("FILE_TYPE_DIRECTORY"));
    }
}
