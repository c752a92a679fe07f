package dev.basalt.core;

import dev.basalt.api.BasaltException;
import dev.basalt.api.FileInfo;
import dev.basalt.api.FileType;
import dev.basalt.protocol.DirEntry;
import dev.basalt.protocol.Message;
import dev.basalt.vmm.agent.AgentClient;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;

/** File operations through the agent, translated to the public {@link FileInfo} vocabulary. */
final class GuestFiles {
    private final Duration timeout;

    GuestFiles(Duration timeout) {
        this.timeout = timeout;
    }

    void write(AgentClient agent, String path, InputStream data, int mode, dev.basalt.api.GuestUser owner) {
        if (mode < 0 || mode > 07777) {
            throw new BasaltException.InvalidArgument("file mode must be within 0..07777, got " + Integer.toOctalString(mode));
        }
        try {
            agent.writeFile(path, mode, true, false, owner, CrashPoint.upload(data), timeout);
        } catch (UncheckedIOException e) {
            throw new BasaltException.InvalidArgument("upload of " + path + " failed reading the source: "
                    + e.getCause().getMessage() + " (the guest file was left unchanged)", e);
        }
    }

    FileInfo read(AgentClient agent, String path, OutputStream sink) {
        try {
            return info(path, agent.readFile(path, sink, timeout));
        } catch (UncheckedIOException e) {
            throw new BasaltException.InvalidArgument("download of " + path + " failed writing the destination: "
                    + e.getCause().getMessage(), e);
        }
    }

    FileInfo stat(AgentClient agent, String path) {
        return info(path, agent.stat(path, timeout));
    }

    List<FileInfo> list(AgentClient agent, String path) {
        return agent.list(path, timeout).stream()
                .map(e -> entry(path, e))
                .sorted(Comparator.comparing(FileInfo::path))
                .toList();
    }

    void mkdir(AgentClient agent, String path, dev.basalt.api.GuestUser owner) {
        agent.mkdir(path, 0755, owner, timeout);
    }

    void remove(AgentClient agent, String path, boolean recursive) {
        agent.remove(path, recursive, timeout);
    }

    void rename(AgentClient agent, String from, String to) {
        agent.rename(from, to, timeout);
    }

    private static FileInfo info(String path, Message.StatResult s) {
        return new FileInfo(path, type(s.fileType()), (int) s.mode(), s.size(), Instant.ofEpochMilli(s.mtimeMs()));
    }

    private static FileInfo entry(String dir, DirEntry e) {
        return new FileInfo(GuestPaths.join(dir, e.name()), type(e.type()), (int) e.mode(), e.size(),
                Instant.ofEpochMilli(e.mtimeMs()));
    }

    private static FileType type(dev.basalt.protocol.FileType t) {
        return switch (t) {
            case FILE -> FileType.FILE;
            case DIRECTORY -> FileType.DIRECTORY;
            case SYMLINK -> FileType.SYMLINK;
            case OTHER -> FileType.OTHER;
        };
    }
}
