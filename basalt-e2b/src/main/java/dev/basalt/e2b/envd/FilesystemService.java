package dev.basalt.e2b.envd;

import dev.basalt.api.BasaltException;
import dev.basalt.api.FileInfo;
import dev.basalt.api.FileType;
import dev.basalt.api.Sandboxes;
import dev.basalt.e2b.connect.Call;
import dev.basalt.e2b.connect.ConnectRouter;
import dev.basalt.e2b.connect.StreamSink;
import dev.basalt.e2b.envd.FilesystemMessages.CreateWatcherResponse;
import dev.basalt.e2b.envd.FilesystemMessages.Empty;
import dev.basalt.e2b.envd.FilesystemMessages.EntryInfo;
import dev.basalt.e2b.envd.FilesystemMessages.EntryResponse;
import dev.basalt.e2b.envd.FilesystemMessages.FilesystemEvent;
import dev.basalt.e2b.envd.FilesystemMessages.GetWatcherEventsResponse;
import dev.basalt.e2b.envd.FilesystemMessages.ListDirRequest;
import dev.basalt.e2b.envd.FilesystemMessages.ListDirResponse;
import dev.basalt.e2b.envd.FilesystemMessages.MoveRequest;
import dev.basalt.e2b.envd.FilesystemMessages.PathRequest;
import dev.basalt.e2b.envd.FilesystemMessages.WatchDirRequest;
import dev.basalt.e2b.envd.FilesystemMessages.WatchDirResponse;
import dev.basalt.e2b.envd.FilesystemMessages.WatcherRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * envd's {@code filesystem.Filesystem} over the port's file operations: Stat, MakeDir, Move,
 * ListDir, Remove, WatchDir and the polled watchers (CreateWatcher, GetWatcherEvents,
 * RemoveWatcher). Paths may be relative to the user's home; directories are made as the user
 * (MakeDir, Move's missing parents); the rest runs as root.
 */
final class FilesystemService {
    static final String SERVICE = "filesystem.Filesystem";
    /** Deepest ListDir walk and recursive watch. */
    static final int MAX_DEPTH = 32;

    private final Sandboxes port;
    private final Duration pollInterval;
    private final Watchers watchers;

    FilesystemService(Sandboxes port, Duration pollInterval) {
        this.port = port;
        this.pollInterval = pollInterval;
        this.watchers = new Watchers(port, pollInterval);
    }

    void register(ConnectRouter<EnvdContext> router) {
        router.unary(SERVICE, "Stat", PathRequest.class, this::stat)
                .unary(SERVICE, "MakeDir", PathRequest.class, this::makeDir)
                .unary(SERVICE, "Move", MoveRequest.class, this::move)
                .unary(SERVICE, "ListDir", ListDirRequest.class, this::listDir)
                .unary(SERVICE, "Remove", PathRequest.class, this::remove)
                .serverStream(SERVICE, "WatchDir", WatchDirRequest.class, WatchDirResponse.KEEPALIVE, this::watchDir)
                .unary(SERVICE, "CreateWatcher", WatchDirRequest.class, this::createWatcher)
                .unary(SERVICE, "GetWatcherEvents", WatcherRequest.class, this::getWatcherEvents)
                .unary(SERVICE, "RemoveWatcher", WatcherRequest.class, this::removeWatcher);
    }

    void forget(String sandboxId) {
        watchers.forget(sandboxId);
    }

    void close() {
        watchers.close();
    }

    private EntryResponse stat(Call<EnvdContext> call, PathRequest request) {
        return new EntryResponse(entry(call.context(), call.context().resolve(request.path())));
    }

    private EntryInfo entry(EnvdContext ctx, String path) {
        try {
            return Entries.of(port.stat(ctx.sandboxId(), path));
        } catch (BasaltException.NotFound e) {
            throw new BasaltException.NotFound("file not found: " + path, e);
        }
    }

    private EntryResponse makeDir(Call<EnvdContext> call, PathRequest request) {
        EnvdContext ctx = call.context();
        String path = ctx.resolve(request.path());
        try {
            FileInfo existing = port.stat(ctx.sandboxId(), path);
            if (existing.type() == FileType.DIRECTORY) {
                throw new BasaltException.AlreadyExists("directory already exists: " + path);
            }
            throw new BasaltException.InvalidArgument("path already exists but it is not a directory: " + path);
        } catch (BasaltException.NotFound e) {
            port.mkdir(ctx.sandboxId(), path, ctx.user().asGuestUser());
        }
        return new EntryResponse(entry(ctx, path));
    }

    private EntryResponse move(Call<EnvdContext> call, MoveRequest request) {
        EnvdContext ctx = call.context();
        String source = ctx.resolve(request.source());
        String destination = ctx.resolve(request.destination());
        port.mkdir(ctx.sandboxId(), GuestPaths.parent(destination), ctx.user().asGuestUser());
        try {
            port.rename(ctx.sandboxId(), source, destination);
        } catch (BasaltException.NotFound e) {
            throw new BasaltException.NotFound("source file not found: " + source, e);
        }
        return new EntryResponse(entry(ctx, destination));
    }

    private ListDirResponse listDir(Call<EnvdContext> call, ListDirRequest request) {
        EnvdContext ctx = call.context();
        int depth = request.depth() == 0 ? 1 : request.depth();
        if (depth < 1 || depth > MAX_DEPTH) {
            throw new BasaltException.InvalidArgument("depth must be between 1 and " + MAX_DEPTH + ", got " + request.depth());
        }
        String path = ctx.resolve(request.path());
        FileInfo dir = statDir(ctx, path);
        List<EntryInfo> entries = new ArrayList<>();
        for (FileInfo info : DirSnapshot.take(port, ctx.sandboxId(), dir.path(), depth).entries().values()) {
            entries.add(Entries.of(info));
        }
        return new ListDirResponse(entries);
    }

    private FileInfo statDir(EnvdContext ctx, String path) {
        FileInfo info;
        try {
            info = port.stat(ctx.sandboxId(), path);
        } catch (BasaltException.NotFound e) {
            throw new BasaltException.NotFound("directory not found: " + path, e);
        }
        if (info.type() != FileType.DIRECTORY) {
            throw new BasaltException.InvalidArgument("path is not a directory: " + path);
        }
        return info;
    }

    private Empty remove(Call<EnvdContext> call, PathRequest request) {
        EnvdContext ctx = call.context();
        String path = ctx.resolve(request.path());
        if (path.equals("/")) {
            throw new BasaltException.InvalidArgument("refusing to remove /");
        }
        try {
            port.removeFile(ctx.sandboxId(), path, true);
        } catch (BasaltException.NotFound e) {
            // like rm -rf: nothing to remove is no error
        }
        return Empty.INSTANCE;
    }

    private void watchDir(Call<EnvdContext> call, WatchDirRequest request, StreamSink<WatchDirResponse> sink) {
        EnvdContext ctx = call.context();
        String path = ctx.resolve(request.path());
        statDir(ctx, path);
        int depth = request.recursive() ? MAX_DEPTH : 1;
        DirSnapshot before = DirSnapshot.take(port, ctx.sandboxId(), path, depth);
        if (!sink.send(WatchDirResponse.START)) {
            return;
        }
        while (!sink.closed().isDone()) {
            try {
                sink.closed().get(pollInterval.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
                return;
            } catch (java.util.concurrent.TimeoutException e) {
                // time for the next look
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                return;
            }
            DirSnapshot now = DirSnapshot.take(port, ctx.sandboxId(), path, depth);
            for (FilesystemEvent event : before.changesTo(now, request.includeEntry())) {
                if (!sink.send(new WatchDirResponse(null, event, null))) {
                    return;
                }
            }
            before = now;
        }
    }

    private CreateWatcherResponse createWatcher(Call<EnvdContext> call, WatchDirRequest request) {
        EnvdContext ctx = call.context();
        String path = ctx.resolve(request.path());
        statDir(ctx, path);
        return new CreateWatcherResponse(watchers.create(ctx.sandboxId(), path,
                request.recursive() ? MAX_DEPTH : 1, request.includeEntry()));
    }

    private GetWatcherEventsResponse getWatcherEvents(Call<EnvdContext> call, WatcherRequest request) {
        return new GetWatcherEventsResponse(watchers.drain(call.context().sandboxId(), request.watcherId()));
    }

    private Empty removeWatcher(Call<EnvdContext> call, WatcherRequest request) {
        watchers.remove(call.context().sandboxId(), request.watcherId());
        return Empty.INSTANCE;
    }
}
