package dev.basalt.e2b.envd;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonFormat;
import java.util.List;
import java.util.Map;

/**
 * The JSON messages of envd's {@code filesystem.Filesystem} service (see {@link ProcessMessages}
 * for the encoding rules).
 */
public final class FilesystemMessages {
    private FilesystemMessages() {
    }

    /**
     * One file system entry.
     *
     * @param type         {@code FILE_TYPE_FILE}, {@code FILE_TYPE_DIRECTORY}, {@code FILE_TYPE_SYMLINK}
     *                     or {@code FILE_TYPE_UNSPECIFIED}
     * @param size         bytes (a 64-bit integer, so a string in JSON)
     * @param mode         permission bits
     * @param permissions  like {@code ls -l}: {@code -rw-r--r--}
     * @param modifiedTime RFC 3339
     */
    public record EntryInfo(String name, String type, String path,
                            @JsonFormat(shape = JsonFormat.Shape.STRING) long size, int mode, String permissions,
                            String owner, String group, String modifiedTime, String symlinkTarget,
                            Map<String, String> metadata) {
    }

    /** The request of Stat, MakeDir and Remove. */
    public record PathRequest(String path) {
    }

    /** The response of Stat, MakeDir and Move. */
    public record EntryResponse(EntryInfo entry) {
    }

    public record MoveRequest(String source, String destination) {
    }

    public record ListDirRequest(String path, int depth) {
    }

    public record ListDirResponse(List<EntryInfo> entries) {
    }

    public record WatchDirRequest(String path, boolean recursive,
                                  @JsonAlias("include_entry") boolean includeEntry,
                                  @JsonAlias("allow_network_mounts") boolean allowNetworkMounts) {
    }

    /**
     * One change.
     *
     * @param name  the path relative to the watched directory
     * @param type  {@code EVENT_TYPE_CREATE}, {@code _WRITE}, {@code _REMOVE}, {@code _RENAME} or {@code _CHMOD}
     * @param entry the entry after the change, when asked for and it still exists
     */
    public record FilesystemEvent(String name, String type, EntryInfo entry) {
    }

    public record Empty() {
        static final Empty INSTANCE = new Empty();
    }

    /** One event of a WatchDir stream: exactly one field is set. */
    public record WatchDirResponse(Empty start, FilesystemEvent filesystem, Empty keepalive) {
        static final WatchDirResponse START = new WatchDirResponse(Empty.INSTANCE, null, null);
        static final WatchDirResponse KEEPALIVE = new WatchDirResponse(null, null, Empty.INSTANCE);
    }

    public record CreateWatcherResponse(String watcherId) {
    }

    public record WatcherRequest(@JsonAlias("watcher_id") String watcherId) {
    }

    public record GetWatcherEventsResponse(List<FilesystemEvent> events) {
    }
}
