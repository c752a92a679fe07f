package dev.basalt.cli;

import dev.basalt.api.BasaltException;
import dev.basalt.api.FileInfo;
import dev.basalt.api.FileType;
import dev.basalt.api.Sandboxes;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Copies files and trees between host and guest. Downloads never write outside the destination:
 * guest entry names with '/' or equal to "." / ".." are refused, symlinks are skipped (with a
 * warning) in both directions, and each file lands through a temporary file and a rename.
 */
final class Transfers {
    private final Sandboxes sandboxes;
    private final PrintStream warnings;

    Transfers(Sandboxes sandboxes, PrintStream warnings) {
        this.sandboxes = sandboxes;
        this.warnings = warnings;
    }

    void upload(Path source, CopyCommand.GuestRef to) {
        if (!Files.exists(source, LinkOption.NOFOLLOW_LINKS)) {
            throw new BasaltException.NotFound("host path " + source + " does not exist");
        }
        String target = to.path();
        if (target.endsWith("/") || isGuestDirectory(to.sandbox(), target)) {
            target = join(target, source.getFileName().toString());
        }
        if (Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
            uploadTree(to.sandbox(), source, target);
        } else {
            uploadFile(to.sandbox(), source, target);
        }
    }

    private void uploadTree(String sandbox, Path dir, String target) {
        sandboxes.mkdir(sandbox, target);
        try (Stream<Path> children = Files.list(dir)) {
            for (Path child : children.sorted().toList()) {
                String childTarget = join(target, child.getFileName().toString());
                if (Files.isSymbolicLink(child)) {
                    warnings.println("basalt: skipping symlink " + child);
                } else if (Files.isDirectory(child)) {
                    uploadTree(sandbox, child, childTarget);
                } else if (Files.isRegularFile(child)) {
                    uploadFile(sandbox, child, childTarget);
                } else {
                    warnings.println("basalt: skipping special file " + child);
                }
            }
        } catch (IOException e) {
            throw new BasaltException.InvalidArgument("cannot read host directory " + dir + ": " + e.getMessage(), e);
        }
    }

    private void uploadFile(String sandbox, Path file, String target) {
        if (Files.isSymbolicLink(file)) {
            warnings.println("basalt: skipping symlink " + file);
            return;
        }
        try (InputStream in = Files.newInputStream(file)) {
            sandboxes.writeFile(sandbox, target, in, hostMode(file));
        } catch (IOException e) {
            throw new BasaltException.InvalidArgument("cannot read host file " + file + ": " + e.getMessage(), e);
        }
    }

    void uploadStream(InputStream in, CopyCommand.GuestRef to) {
        if (to.path().endsWith("/")) {
            throw new BasaltException.InvalidArgument("copying from stdin needs a file name, not a directory: " + to.path());
        }
        sandboxes.writeFile(to.sandbox(), to.path(), in, 0644);
    }

    void downloadToStream(CopyCommand.GuestRef from, OutputStream out) {
        sandboxes.readFile(from.sandbox(), from.path(), out);
        try {
            out.flush();
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot write to stdout: " + e.getMessage(), e);
        }
    }

    void download(CopyCommand.GuestRef from, Path destination) {
        FileInfo info = sandboxes.stat(from.sandbox(), from.path());
        Path target = Files.isDirectory(destination) ? destination.resolve(safeName(info.name())) : destination;
        switch (info.type()) {
            case FILE -> downloadFile(from.sandbox(), info, target);
            case DIRECTORY -> downloadTree(from.sandbox(), info, target);
            case SYMLINK, OTHER -> throw new BasaltException.InvalidArgument("guest path " + from.path()
                    + " is a " + info.type().name().toLowerCase(java.util.Locale.ROOT) + ", not a file or directory");
        }
    }

    private void downloadTree(String sandbox, FileInfo dir, Path target) {
        try {
            Files.createDirectories(target);
        } catch (IOException e) {
            throw new BasaltException.InvalidArgument("cannot create host directory " + target + ": " + e.getMessage(), e);
        }
        for (FileInfo entry : sandboxes.listFiles(sandbox, dir.path())) {
            Path child = target.resolve(safeName(entry.name()));
            switch (entry.type()) {
                case FILE -> downloadFile(sandbox, entry, child);
                case DIRECTORY -> downloadTree(sandbox, entry, child);
                case SYMLINK, OTHER -> warnings.println("basalt: skipping " + entry.type().name().toLowerCase(java.util.Locale.ROOT)
                        + " " + entry.path());
            }
        }
    }

    private void downloadFile(String sandbox, FileInfo file, Path target) {
        Path tmp = null;
        try {
            Path parent = target.toAbsolutePath().getParent();
            tmp = Files.createTempFile(parent, ".basalt-cp-", ".part");
            try (OutputStream out = Files.newOutputStream(tmp)) {
                sandboxes.readFile(sandbox, file.path(), out);
            }
            Files.setPosixFilePermissions(tmp, permissions(file.mode()));
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            tmp = null;
        } catch (IOException e) {
            throw new BasaltException.InvalidArgument("cannot write host file " + target + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }
    }

    private boolean isGuestDirectory(String sandbox, String path) {
        try {
            return sandboxes.stat(sandbox, path).type() == FileType.DIRECTORY;
        } catch (BasaltException.NotFound e) {
            return false;
        }
    }

    /** A guest-provided name that cannot escape the destination directory. */
    static String safeName(String name) {
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.contains("/") || name.indexOf('\0') >= 0) {
            throw new BasaltException.InvalidArgument("refusing guest file name '" + name
                    + "': it would escape the destination directory");
        }
        return name;
    }

    private static String join(String dir, String name) {
        return dir.endsWith("/") ? dir + name : dir + "/" + name;
    }

    private static int hostMode(Path file) {
        try {
            int mode = 0;
            for (PosixFilePermission p : Files.getPosixFilePermissions(file)) {
                mode |= 1 << (8 - p.ordinal());
            }
            return mode;
        } catch (IOException | UnsupportedOperationException e) {
            return 0644;
        }
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        StringBuilder b = new StringBuilder();
        String rwx = "rwxrwxrwx";
        for (int i = 0; i < 9; i++) {
            b.append((mode & (1 << (8 - i))) != 0 ? rwx.charAt(i) : '-');
        }
        return PosixFilePermissions.fromString(b.toString());
    }
}
