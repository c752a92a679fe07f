package dev.basalt.vmm.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.basalt.api.BasaltException;
import dev.basalt.vmm.Libc;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * A second QMP connection that can hand QEMU a file descriptor ({@code getfd} with
 * {@code SCM_RIGHTS}, which Java's sockets cannot send), made with the foreign-function API. QEMU
 * files a descriptor passed with {@code getfd} under the monitor that received it, so the command
 * that uses it ({@code migrate fd:NAME}) goes over this connection too. Basalt uses it to save a
 * VM's state straight into a file Basalt opened: no {@code sh} and {@code cat} forked from QEMU, no
 * pipe. Every read waits at most {@link #TIMEOUT_MILLIS}. Not thread-safe; one use, then
 * {@link #close()}.
 */
final class FdMonitor implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int TIMEOUT_MILLIS = 10_000;

    private final Arena arena = Arena.ofConfined();
    private final int socket;
    private final Path path;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
    private long ids;

    private FdMonitor(int socket, Path path) {
        this.socket = socket;
        this.path = path;
    }

    /** Connects to the QMP socket at {@code path}, reads the greeting and negotiates capabilities. */
    static FdMonitor connect(Path path) {
        int fd = Native.unixSocket(path);
        FdMonitor monitor = new FdMonitor(fd, path);
        try {
            JsonNode greeting = monitor.readMessage();
            if (!greeting.has("QMP")) {
                throw new BasaltException.Internal("unexpected QMP greeting on " + path + ": " + greeting);
            }
            monitor.execute("qmp_capabilities", Map.of());
            return monitor;
        } catch (RuntimeException e) {
            monitor.close();
            throw e;
        }
    }

    /** Gives QEMU a duplicate of {@code fd} under {@code name}; the caller still owns and closes {@code fd}. */
    void passFd(int fd, String name) {
        send(request("getfd", Map.of("fdname", name)), fd);
        awaitReply("getfd");
    }

    /**
     * Adds a duplicate of {@code fd} to a new descriptor set of QEMU ({@code add-fd}) and returns the
     * set's id: QEMU opens it as {@code /dev/fdset/<id>} (a block device's file, say). The caller
     * still owns and closes {@code fd}.
     */
    int addFd(int fd) {
        send(request("add-fd", Map.of()), fd);
        return awaitReply("add-fd").path("fdset-id").asInt();
    }

    /** Runs one command and returns its {@code return} value; events in between are skipped. */
    JsonNode execute(String command, Map<String, ?> arguments) {
        send(request(command, arguments), -1);
        return awaitReply(command);
    }

    private String request(String command, Map<String, ?> arguments) {
        ObjectNode request = JSON.createObjectNode();
        request.put("execute", command);
        request.put("id", "f" + ++ids);
        if (!arguments.isEmpty()) {
            request.set("arguments", JSON.valueToTree(arguments));
        }
        return request + "\n";
    }

    private JsonNode awaitReply(String command) {
        String id = "f" + ids;
        while (true) {
            JsonNode reply = readMessage();
            if (reply.has("event") || !id.equals(reply.path("id").asText())) {
                continue;
            }
            if (reply.has("error")) {
                throw new BasaltException.Internal("QMP " + command + " failed: " + reply.path("error").path("class").asText()
                        + ": " + reply.path("error").path("desc").asText());
            }
            return reply.path("return");
        }
    }

    private void send(String message, int fd) {
        byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
        Native.sendAll(arena, socket, bytes, fd, path);
    }

    private JsonNode readMessage() {
        while (true) {
            byte[] buffered = pending.toByteArray();
            for (int i = 0; i < buffered.length; i++) {
                if (buffered[i] == '\n') {
                    pending.reset();
                    pending.write(buffered, i + 1, buffered.length - i - 1);
                    try {
                        return JSON.readTree(new String(buffered, 0, i, StandardCharsets.UTF_8));
                    } catch (IOException e) {
                        throw new BasaltException.Internal("malformed QMP message on " + path + ": " + e.getMessage(), e);
                    }
                }
            }
            byte[] chunk = Native.read(arena, socket, TIMEOUT_MILLIS, path);
            pending.write(chunk, 0, chunk.length);
        }
    }

    @Override
    public void close() {
        Libc.close(socket);
        arena.close();
    }

    /** The socket calls Java has no API for (descriptor passing), linked on first use. */
    static final class Native {
        private static final int AF_UNIX = 1;
        private static final int SOCK_STREAM_CLOEXEC = 1 | 0x80000;
        private static final int SOL_SOCKET = 1;
        private static final int SCM_RIGHTS = 1;
        private static final int MSG_NOSIGNAL = 0x4000;
        private static final short POLLIN = 1;
        private static final int SUN_PATH_MAX = 108;

        private static final MethodHandle SOCKET = Libc.function("socket",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        private static final MethodHandle CONNECT = Libc.function("connect",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        private static final MethodHandle SENDMSG = Libc.function("sendmsg",
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        private static final MethodHandle POLL = Libc.function("poll",
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
        private static final MethodHandle READ = Libc.function("read",
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));

        private Native() {
        }

        /** Creates (or truncates) {@code file} for writing, mode 0600; returns the descriptor. */
        /** Opens an existing file for reading and writing (a disk's new top). */
        static int openReadWrite(Path file) {
            try {
                return Libc.open(file, 2 | Libc.O_CLOEXEC, 0);
            } catch (Libc.Errno e) {
                throw new BasaltException.Internal(e.getMessage(), e);
            }
        }

        static int create(Path file) {
            try {
                return Libc.open(file, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_TRUNC | Libc.O_CLOEXEC, 0600);
            } catch (Libc.Errno e) {
                throw new BasaltException.Internal(e.getMessage(), e);
            }
        }

        static int unixSocket(Path path) {
            byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
            if (name.length >= SUN_PATH_MAX) {
                throw new BasaltException.Internal("socket path too long for a unix socket: " + path);
            }
            try (Arena a = Arena.ofConfined()) {
                MemorySegment state = Libc.callState(a);
                int fd = (int) SOCKET.invokeExact(state, AF_UNIX, SOCK_STREAM_CLOEXEC, 0);
                if (fd < 0) {
                    throw new BasaltException.Internal("cannot create a unix socket: " + errno(state));
                }
                MemorySegment address = a.allocate(2 + SUN_PATH_MAX);   // sockaddr_un, zeroed
                address.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
                MemorySegment.copy(name, 0, address, ValueLayout.JAVA_BYTE, 2, name.length);
                if ((int) CONNECT.invokeExact(state, fd, address, (int) address.byteSize()) != 0) {
                    String errno = errno(state);
                    Libc.close(fd);
                    throw new BasaltException.Unavailable("cannot connect to " + path + ": " + errno);
                }
                return fd;
            } catch (BasaltException e) {
                throw e;
            } catch (Throwable t) {
                throw new BasaltException.Internal("cannot call socket(2)/connect(2): " + t, t);
            }
        }

        /** Sends all of {@code bytes}; with {@code fd >= 0}, attaches it (SCM_RIGHTS) to the first byte. */
        static void sendAll(Arena arena, int socket, byte[] bytes, int fd, Path path) {
            MemorySegment state = Libc.callState(arena);
            MemorySegment data = arena.allocateFrom(ValueLayout.JAVA_BYTE, bytes);
            MemorySegment iov = arena.allocate(16);          // struct iovec
            MemorySegment msg = arena.allocate(56);          // struct msghdr, zeroed
            MemorySegment control = arena.allocate(24);      // CMSG_SPACE(sizeof(int))
            long sent = 0;
            while (sent < bytes.length) {
                iov.set(ValueLayout.ADDRESS, 0, data.asSlice(sent));
                iov.set(ValueLayout.JAVA_LONG, 8, bytes.length - sent);
                msg.set(ValueLayout.ADDRESS, 16, iov);
                msg.set(ValueLayout.JAVA_LONG, 24, 1);
                if (fd >= 0 && sent == 0) {
                    control.set(ValueLayout.JAVA_LONG, 0, 20);     // cmsg_len = CMSG_LEN(sizeof(int))
                    control.set(ValueLayout.JAVA_INT, 8, SOL_SOCKET);
                    control.set(ValueLayout.JAVA_INT, 12, SCM_RIGHTS);
                    control.set(ValueLayout.JAVA_INT, 16, fd);
                    msg.set(ValueLayout.ADDRESS, 32, control);
                    msg.set(ValueLayout.JAVA_LONG, 40, control.byteSize());
                } else {
                    msg.set(ValueLayout.ADDRESS, 32, MemorySegment.NULL);
                    msg.set(ValueLayout.JAVA_LONG, 40, 0);
                }
                long n;
                try {
                    n = (long) SENDMSG.invokeExact(state, socket, msg, MSG_NOSIGNAL);
                } catch (Throwable t) {
                    throw new BasaltException.Internal("cannot call sendmsg(2): " + t, t);
                }
                if (n < 0) {
                    if (Libc.errno(state) == Libc.EINTR) {
                        continue;
                    }
                    throw new BasaltException.Unavailable("cannot send to QMP socket " + path + ": " + errno(state));
                }
                sent += n;
            }
        }

        /** Waits up to {@code timeoutMillis} for data and returns what one read(2) got. */
        static byte[] read(Arena arena, int socket, int timeoutMillis, Path path) {
            MemorySegment state = Libc.callState(arena);
            MemorySegment pollfd = arena.allocate(8);
            pollfd.set(ValueLayout.JAVA_INT, 0, socket);
            pollfd.set(ValueLayout.JAVA_SHORT, 4, POLLIN);
            MemorySegment buffer = arena.allocate(4096);
            try {
                int ready = (int) POLL.invokeExact(state, pollfd, 1L, timeoutMillis);
                if (ready == 0) {
                    throw new BasaltException.TimedOut("QEMU did not answer on " + path + " within " + timeoutMillis + " ms");
                }
                if (ready < 0) {
                    if (Libc.errno(state) == Libc.EINTR) {
                        return new byte[0];
                    }
                    throw new BasaltException.Unavailable("cannot poll QMP socket " + path + ": " + errno(state));
                }
                long n = (long) READ.invokeExact(state, socket, buffer, buffer.byteSize());
                if (n == 0) {
                    throw new BasaltException.Unavailable("QEMU closed QMP socket " + path);
                }
                if (n < 0) {
                    if (Libc.errno(state) == Libc.EINTR) {
                        return new byte[0];
                    }
                    throw new BasaltException.Unavailable("cannot read QMP socket " + path + ": " + errno(state));
                }
                return buffer.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
            } catch (BasaltException e) {
                throw e;
            } catch (Throwable t) {
                throw new BasaltException.Internal("cannot call poll(2)/read(2): " + t, t);
            }
        }

        /** The captured errno, described. */
        private static String errno(MemorySegment state) {
            return Libc.describe(Libc.errno(state));
        }
    }
}
