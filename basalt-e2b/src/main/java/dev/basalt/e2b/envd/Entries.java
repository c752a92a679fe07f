package dev.basalt.e2b.envd;

import dev.basalt.api.FileInfo;
import dev.basalt.api.FileType;
import dev.basalt.e2b.envd.FilesystemMessages.EntryInfo;
import java.util.Map;

/** Basalt's {@link FileInfo} as envd's {@link EntryInfo}. */
final class Entries {
    private Entries() {
    }

    static EntryInfo of(FileInfo info) {
        return new EntryInfo(GuestPaths.name(info.path()), type(info.type()), info.path(), info.size(), info.mode(),
                permissions(info.type(), info.mode()), "", "", info.modified().toString(), null, Map.of());
    }

    static String type(FileType type) {
        return switch (type) {
            case FILE -> "FILE_TYPE_FILE";
            case DIRECTORY -> "FILE_TYPE_DIRECTORY";
            case SYMLINK -> "FILE_TYPE_SYMLINK";
            case OTHER -> "FILE_TYPE_UNSPECIFIED";
        };
    }

    /** Like {@code ls -l}: the type letter and the nine permission bits (with setuid, setgid, sticky). */
    static String permissions(FileType type, int mode) {
        StringBuilder s = new StringBuilder(10);
        s.append(switch (type) {
            case DIRECTORY -> 'd';
            case SYMLINK -> 'l';
            case FILE -> '-';
            case OTHER -> '?';
        });
        String rwx = "rwxrwxrwx";
        for (int i = 0; i < 9; i++) {
            boolean set = (mode & (1 << (8 - i))) != 0;
            char c = set ? rwx.charAt(i) : '-';
            if (i == 2 && (mode & 04000) != 0) {
                c = set ? 's' : 'S';
            } else if (i == 5 && (mode & 02000) != 0) {
                c = set ? 's' : 'S';
            } else if (i == 8 && (mode & 01000) != 0) {
                c = set ? 't' : 'T';
            }
            s.append(c);
        }
        return s.toString();
    }
}
