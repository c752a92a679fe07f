package dev.basalt.e2b.envd;

import dev.basalt.api.BasaltException;
import dev.basalt.api.FileInfo;
import dev.basalt.api.FileType;
import dev.basalt.api.Sandboxes;
import dev.basalt.e2b.envd.FilesystemMessages.FilesystemEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The entries under a guest directory at one moment (to a depth), and the changes between two
 * such moments as envd's file system events. Directory watching is built on it: Basalt's agent
 * has no inotify, so a watcher compares listings taken a short interval apart (a change that is
 * undone within one interval is not seen; a write that keeps size and modification time neither).
 *
 * @param root    the directory (absolute)
 * @param entries entries by their path relative to {@code root}, in listing order
 */
record DirSnapshot(String root, Map<String, FileInfo> entries) {
    /** Most entries one snapshot holds; a bigger tree is refused rather than polled. */
    static final int MAX_ENTRIES = 10_000;

    /** Lists {@code root} to {@code depth} levels (1: its own entries). */
    static DirSnapshot take(Sandboxes port, String sandboxId, String root, int depth) {
        Map<String, FileInfo> entries = new LinkedHashMap<>();
        Deque<String> dirs = new ArrayDeque<>();
        Deque<Integer> levels = new ArrayDeque<>();
        dirs.add(root);
        levels.add(1);
        while (!dirs.isEmpty()) {
            String dir = dirs.removeFirst();
            int level = levels.removeFirst();
            List<FileInfo> listing;
            try {
                listing = port.listFiles(sandboxId, dir);
            } catch (BasaltException.NotFound e) {
                if (dir.equals(root)) {
                    throw e;
                }
                continue;   // removed while we walked
            }
            for (FileInfo info : listing) {
                if (entries.size() >= MAX_ENTRIES) {
                    throw new BasaltException.ResourceExhausted("more than " + MAX_ENTRIES + " entries under " + root
                            + ": list or watch a smaller tree");
                }
                entries.put(relative(root, info.path()), info);
                if (info.type() == FileType.DIRECTORY && level < depth) {
                    dirs.add(info.path());
                    levels.add(level + 1);
                }
            }
        }
        return new DirSnapshot(root, entries);
    }

    static String relative(String root, String path) {
        String prefix = root.endsWith("/") ? root : root + "/";
        return path.startsWith(prefix) ? path.substring(prefix.length()) : path;
    }

    /** The events that lead from this snapshot to {@code now}. */
    List<FilesystemEvent> changesTo(DirSnapshot now, boolean includeEntry) {
        List<FilesystemEvent> events = new ArrayList<>();
        for (Map.Entry<String, FileInfo> e : entries.entrySet()) {
            FileInfo after = now.entries.get(e.getKey());
            if (after == null || after.type() != e.getValue().type()) {
                events.add(new FilesystemEvent(e.getKey(), "EVENT_TYPE_REMOVE", null));
            }
        }
        for (Map.Entry<String, FileInfo> e : now.entries.entrySet()) {
            FileInfo before = entries.get(e.getKey());
            FileInfo after = e.getValue();
            String type;
            if (before == null || before.type() != after.type()) {
                type = "EVENT_TYPE_CREATE";
            } else if (before.size() != after.size() || !before.modified().equals(after.modified())) {
                type = "EVENT_TYPE_WRITE";
            } else if (before.mode() != after.mode()) {
                type = "EVENT_TYPE_CHMOD";
            } else {
                continue;
            }
            events.add(new FilesystemEvent(e.getKey(), type, includeEntry ? Entries.of(after) : null));
        }
        return events;
    }
}
