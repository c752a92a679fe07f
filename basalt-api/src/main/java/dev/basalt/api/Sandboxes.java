package dev.basalt.api;

import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;

/**
 * The port: everything Basalt can do with sandboxes, addressed by id. The embedded manager
 * implements it directly; the gRPC server and the CLI are thin adapters over it.
 *
 * <p>Every method throws a {@link BasaltException}: {@code NotFound} for an unknown id,
 * {@code WrongState} when the sandbox's state does not allow the operation (each method says
 * which states it needs), {@code InvalidArgument} for bad input. Methods are thread-safe;
 * any number of operations may run at once on one sandbox.
 */
public interface Sandboxes extends AutoCloseable {

    /**
     * Creates a sandbox and waits until its guest agent answers (state READY).
     * Allowed at any time while the manager is open.
     *
     * @throws BasaltException.InvalidArgument for an unknown image or missing kernel/initrd
     * @throws BasaltException.ResourceExhausted if the host cannot give the memory asked for
     * @throws BasaltException.Unavailable if the VM failed to boot; the message carries the reason and
     *         the console tail, and nothing of the failed sandbox is left behind
     */
    SandboxInfo create(SandboxSpec spec);

    /**
     * Like {@link #create} but returns at once, with the sandbox STARTING; it becomes READY, or
     * FAILED with the reason (kept until removed, since the caller knows its id). Watch it with
     * {@link #inspect} or {@link #subscribe}. A warm-pool hit returns a READY sandbox.
     *
     * @throws BasaltException.InvalidArgument or {@code ResourceExhausted} for requests that cannot
     *         start at all (checked before returning)
     */
    SandboxInfo createAsync(SandboxSpec spec);

    /** Current view of one sandbox. Allowed in every state. */
    SandboxInfo inspect(String id);

    /** All sandboxes, oldest first. */
    List<SandboxInfo> list();

    /**
     * Checks that the guest agent answers and returns the round-trip time. Only when READY or RUNNING.
     *
     * @throws BasaltException.TimedOut if the agent does not answer within {@code timeout}
     */
    Duration ping(String id, Duration timeout);

    /**
     * Runs a command to completion and returns its exit status and buffered output.
     * Only when READY or RUNNING.
     */
    ExecResult exec(String id, ExecRequest request);

    /**
     * Runs a command to completion, streaming its output to {@code output} as it arrives;
     * the returned result has empty stdout/stderr. Only when READY or RUNNING.
     */
    ExecResult exec(String id, ExecRequest request, ExecOutput output);

    /**
     * Starts a command with an open stdin and returns at once; output goes to {@code output}.
     * {@link ExecRequest#stdin()} is ignored: write stdin through the returned process.
     * Only when READY or RUNNING.
     */
    ExecProcess start(String id, ExecRequest request, ExecOutput output);

    /**
     * Writes {@code data} to the guest file {@code path} (absolute), replacing it atomically;
     * parent directories are created. Only when READY or RUNNING.
     */
    void writeFile(String id, String path, InputStream data, int mode);

    /**
     * Like {@link #writeFile(String, String, InputStream, int)}, done as {@code owner}: with its
     * permissions (a directory it may not write is {@code PermissionDenied}), and the file and the
     * parent directories it creates owned by it. A null owner is root. Only when READY or RUNNING.
     */
    void writeFile(String id, String path, InputStream data, int mode, GuestUser owner);

    /** Streams the guest file {@code path} into {@code sink}. Only when READY or RUNNING. */
    FileInfo readFile(String id, String path, OutputStream sink);

    /** Metadata of a guest path (symlinks not followed). Only when READY or RUNNING. */
    FileInfo stat(String id, String path);

    /** Entries of a guest directory, sorted by name. Only when READY or RUNNING. */
    List<FileInfo> listFiles(String id, String path);

    /** Creates a guest directory and its parents (like mkdir -p). Only when READY or RUNNING. */
    void mkdir(String id, String path);

    /** Like {@link #mkdir(String, String)}, done as {@code owner} (null: root). Only when READY or RUNNING. */
    void mkdir(String id, String path, GuestUser owner);

    /** Removes a guest file or directory (recursively if asked). Only when READY or RUNNING. */
    void removeFile(String id, String path, boolean recursive);

    /** Renames a guest file or directory. Only when READY or RUNNING. */
    void rename(String id, String from, String to);

    /**
     * The tail of the sandbox's serial console (kernel and init messages), at most
     * {@code maxBytes}. Allowed in every state until removed.
     */
    String consoleLog(String id, int maxBytes);

    /**
     * Stops the sandbox: asks the guest to power off, and kills the VM if it has not within
     * {@code grace}. Running execs end. Allowed in every state; a no-op when already STOPPED or FAILED.
     */
    SandboxInfo stop(String id, Duration grace);

    /**
     * Stops the sandbox if needed (with a short grace) and forgets it, deleting its files.
     * Allowed in every state.
     */
    void remove(String id);

    /**
     * Saves the sandbox's complete state (memory, devices, files in its RAM filesystems) as a named
     * snapshot in the catalog. The guest is paused for the save and then runs on unchanged.
     * Only when READY (no exec in flight); other operations wait for the save.
     *
     * @throws BasaltException.AlreadyExists if a snapshot with that name exists
     */
    SnapshotInfo checkpoint(String id, String snapshotName);

    /**
     * Creates a new READY sandbox from a snapshot, with its own id, hostname, clock and random seed.
     * Any number of sandboxes may be restored from one snapshot. Allowed at any time.
     *
     * @throws BasaltException.NotFound if there is no such snapshot
     * @throws BasaltException.InvalidArgument if the snapshot is damaged (hash mismatch, truncated) or
     *         was written by another image or VMM version
     */
    SandboxInfo restore(String snapshotName, java.util.Map<String, String> labels);

    /**
     * Forks the sandbox into {@code count} children that start from its exact memory and files and
     * then diverge independently of it and of each other (each gets its own id, hostname, clock and
     * random seed). The parent is paused for a moment and runs on. Only when READY.
     */
    List<SandboxInfo> fork(String id, int count);

    /**
     * Pauses the sandbox: saves its full state (memory, devices, the files in its RAM filesystems)
     * on the host's disk and stops its VM, so that it costs no memory; it keeps its id, labels and
     * time to live, and stays PAUSED (also across a restart of basaltd) until {@link #resume} or
     * removal. Processes in the guest are frozen with it and run on after the resume. Only when
     * READY with no operation in flight: an exec still streaming to a client must end first.
     *
     * @throws BasaltException.WrongState if the sandbox is not READY or an operation is in flight
     * @throws BasaltException.ResourceExhausted if the disk has no room for the state
     */
    SandboxInfo pause(String id);

    /**
     * Resumes a PAUSED sandbox under the same id: a new VM loads the saved state (its clock is set to
     * now) and the sandbox is READY again with its memory, files and processes. The saved state is
     * deleted. Only when PAUSED.
     *
     * @throws BasaltException.WrongState if the sandbox is not PAUSED
     * @throws BasaltException.Unavailable if the state could not be loaded (the sandbox stays PAUSED)
     */
    SandboxInfo resume(String id);

    /** The snapshot catalog, oldest first. */
    List<SnapshotInfo> snapshots();

    /** Deletes a snapshot. Sandboxes restored from it are not affected. */
    void deleteSnapshot(String snapshotName);

    /** Statistics of the warm and restore pools, one entry per template in use. */
    List<PoolStats> pools();

    /**
     * Delivers lifecycle events matching {@code filter} to {@code listener}, in order, on a thread of
     * its own, from now until the returned subscription is closed. A listener that falls more than
     * 10,000 events behind is dropped (its subscription closes) rather than growing memory.
     */
    AutoCloseable subscribe(EventFilter filter, java.util.function.Consumer<SandboxEvent> listener);

    /**
     * Sets the sandbox's time to live: it is stopped and removed {@code ttl} from now (replacing any
     * earlier expiry). Allowed in every state until removed.
     */
    SandboxInfo setTtl(String id, Duration ttl);

    /**
     * The templates sandboxes are cloned from, with the memory each holds on the shared-memory
     * filesystem. Allowed at any time.
     *
     * @throws BasaltException.Unavailable if this implementation keeps no templates
     */
    default List<TemplateInfo> templates() {
        throw new BasaltException.Unavailable(getClass().getSimpleName() + " keeps no templates");
    }

    /**
     * Deletes every template that is not being built right now and returns what was deleted. Allowed at
     * any time: running clones keep the memory they map until they end, and the next create of an image
     * boots its template again (slower once).
     *
     * @throws BasaltException.Unavailable if this implementation keeps no templates
     */
    default List<TemplateInfo> pruneTemplates() {
        throw new BasaltException.Unavailable(getClass().getSimpleName() + " keeps no templates");
    }

    /**
     * Replaces the egress policy of a networked sandbox (created with {@code open} or {@code allow});
     * new connections and DNS questions follow it at once, open connections keep running. Only the
     * lists and {@code open ⇄ allow} can change, not whether the sandbox has a NIC. Allowed while the
     * sandbox is not stopped; {@code WrongState} for a sandbox without a network.
     */
    default void setNetworkPolicy(String id, NetworkPolicy policy) {
        throw new BasaltException.Unavailable("this Sandboxes implementation has no networking");
    }

    /**
     * Forwards a host address to {@code guestPort} of a networked sandbox: connections to the
     * returned address reach the guest's server. {@code hostPort} 0 picks a free port on loopback.
     * {@code AlreadyExists} if the guest port is forwarded already or the host port is taken.
     */
    default PortForward forwardPort(String id, int guestPort, int hostPort) {
        throw new BasaltException.Unavailable("this Sandboxes implementation has no networking");
    }

    /** Stops forwarding {@code guestPort} of the sandbox (idempotent). */
    default void unforwardPort(String id, int guestPort) {
        throw new BasaltException.Unavailable("this Sandboxes implementation has no networking");
    }

    /** The sandbox's port forwards. */
    default List<PortForward> portForwards(String id) {
        return List.of();
    }

    /** Traffic and refusals of a networked sandbox ({@link NetworkStats#ZERO} without a network). */
    default NetworkStats networkStats(String id) {
        return NetworkStats.ZERO;
    }

    /** Removes every sandbox this manager created and releases its resources. */
    @Override
    void close();
}
