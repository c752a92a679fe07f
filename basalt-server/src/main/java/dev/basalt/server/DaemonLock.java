package dev.basalt.server;

import dev.basalt.api.BasaltException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The exclusive claim one basaltd holds on what it must not share with a second one: its unix socket,
 * its run directory (per-sandbox sockets and owner records) and its state directory (the sandbox
 * database). Taken <em>before</em> the daemon creates its manager, so a second daemon started with
 * any of the same paths is refused having changed nothing: it reattaches no VM, rewrites no owner
 * record and, when it exits, takes nothing down with it.
 *
 * <p>Each claim is an advisory lock ({@code fcntl}) on a file {@code basaltd.lock} in the directory
 * (for the socket: {@code <socket>.lock} beside it) holding the owner's pid. The kernel drops the
 * locks when the process dies, whatever kills it, so a crashed daemon never blocks the next one.
 * A directory the daemon's user cannot create or write is refused with the user named.
 */
public final class DaemonLock implements AutoCloseable {
    static final String LOCK_FILE = "basaltd.lock";

    /** One path to claim: what it is (for messages), its lock file, the option that changes it. */
    record Claim(String what, Path lockFile, String option) {
    }

    private final List<FileChannel> held;

    private DaemonLock(List<FileChannel> held) {
        this.held = held;
    }

    /**
     * Claims {@code socket}, {@code runDir} and {@code stateDir} for this process, creating the
     * directories if needed.
     *
     * @throws BasaltException.AlreadyExists if another process holds any of them (nothing is changed)
     * @throws BasaltException.PermissionDenied if this user cannot create or write one of the directories
     */
    public static DaemonLock acquire(Path socket, Path runDir, Path stateDir) {
        Path socketDir = socket.toAbsolutePath().getParent();
        List<Claim> claims = List.of(
                new Claim("the socket " + socket, socketDir.resolve(socket.getFileName() + ".lock"), "--socket"),
                new Claim("the run directory " + runDir, runDir.resolve(LOCK_FILE), "--run-dir"),
                new Claim("the state directory " + stateDir, stateDir.resolve(LOCK_FILE), "--state-dir"));
        List<FileChannel> held = new ArrayList<>();
        try {
            for (Claim claim : claims) {
                held.add(claim(claim));
            }
            for (FileChannel channel : held) {
                recordOwner(channel);
            }
            return new DaemonLock(held);
        } catch (RuntimeException e) {
            held.forEach(DaemonLock::closeQuietly);
            throw e;
        }
    }

    private static FileChannel claim(Claim claim) {
        Path dir = claim.lockFile().getParent();
        FileChannel channel;
        try {
            Files.createDirectories(dir);
            // no TRUNCATE: a refused daemon must leave the holder's record as it is
            channel = FileChannel.open(claim.lockFile(), StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
        } catch (AccessDeniedException | java.nio.file.ReadOnlyFileSystemException e) {
            throw denied(claim, dir, e);
        } catch (FileSystemException e) {
            if (e.getMessage() != null && (e.getMessage().contains("Permission denied")
                    || e.getMessage().contains("Read-only file system"))) {
                throw denied(claim, dir, e);
            }
            throw new BasaltException.Unavailable("basaltd cannot use " + claim.what() + ": " + e.getMessage()
                    + "; choose another with " + claim.option(), e);
        } catch (IOException e) {
            throw new BasaltException.Unavailable("basaltd cannot use " + claim.what() + ": " + e.getMessage()
                    + "; choose another with " + claim.option(), e);
        }
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;                                    // held by this very JVM
        } catch (IOException e) {
            closeQuietly(channel);
            throw new BasaltException.Unavailable("basaltd cannot lock " + claim.lockFile() + ": " + e.getMessage(), e);
        }
        if (lock == null) {
            String holder = holder(channel);
            closeQuietly(channel);
            throw new BasaltException.AlreadyExists("another basaltd" + holder + " is using " + claim.what()
                    + ": stop it first or choose another " + claim.option() + " (nothing was changed)");
        }
        return channel;
    }

    private static BasaltException denied(Claim claim, Path dir, Exception e) {
        String user = System.getProperty("user.name");
        return new BasaltException.PermissionDenied("cannot write " + claim.what() + " (" + dir + ": " + reason(e)
                + " for user " + user + "): run basaltd as a user who may write it, or choose a directory it can "
                + "write with " + claim.option(), e);
    }

    private static String reason(Exception e) {
        return e instanceof AccessDeniedException ? "permission denied" : String.valueOf(e.getMessage());
    }

    /** " (pid N)" from the lock file, or "" if it names nobody. */
    private static String holder(FileChannel channel) {
        try {
            ByteBuffer buf = ByteBuffer.allocate(32);
            channel.read(buf, 0);
            String pid = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII).strip();
            return pid.matches("\\d{1,10}") ? " (pid " + pid + ")" : "";
        } catch (IOException e) {
            return "";
        }
    }

    private static void recordOwner(FileChannel channel) {
        try {
            channel.truncate(0);
            channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
        } catch (IOException e) {
            // the pid only makes a refusal's message friendlier; the lock is what counts
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // closing releases the lock; nothing else to do
        }
    }

    /** Releases the claims (the lock files stay: deleting them would race with a starting daemon). */
    @Override
    public void close() {
        held.forEach(DaemonLock::closeQuietly);
    }
}
