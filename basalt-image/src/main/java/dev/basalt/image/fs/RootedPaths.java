package dev.basalt.image.fs;

import dev.basalt.api.BasaltException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Paths inside an image's root directory, resolved the way the guest will see them: a symlink
 * in the way is followed as if the root directory were {@code /} (an absolute target starts
 * again at the root, {@code ..} stops at it), so nothing an image contains can make the host
 * read or write outside the root. The last component of a path is never followed.
 */
public final class RootedPaths {
    /** As the kernel's limit on symlinks followed in one lookup. */
    static final int MAX_LINKS = 40;

    private RootedPaths() {
    }

    /**
     * The components of an archive entry name, checked: leading {@code /} and {@code ./} are
     * dropped, {@code .} components skipped; a {@code ..} component or a NUL byte is refused.
     *
     * @throws BasaltException.InvalidArgument naming the entry, for a name that leaves the root
     */
    public static List<String> components(String name, String what) {
        if (name.indexOf('\0') >= 0) {
            throw new BasaltException.InvalidArgument(what + ": entry name contains a NUL byte");
        }
        List<String> parts = new ArrayList<>();
        for (String part : name.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                throw new BasaltException.InvalidArgument(what + ": entry '" + name + "' has a '..' component and would"
                        + " leave the image's root; the archive is refused");
            }
            parts.add(part);
        }
        return parts;
    }

    /**
     * The host directory that holds the last of {@code components}, following symlinks of the
     * parents inside {@code root}; missing parents are created (mode 0755) when {@code create}.
     * Returns the directory's path relative to {@code root} as components.
     *
     * @throws BasaltException.InvalidArgument if a parent is not a directory, or links loop
     */
    public static List<String> parent(Path root, List<String> components, boolean create, String what) throws IOException {
        return resolve(root, components.subList(0, components.size() - 1), create, what);
    }

    /**
     * {@code components} resolved inside {@code root} with every symlink followed (the last one
     * too), as components relative to {@code root}. Missing directories are created when
     * {@code create}; otherwise a missing component ends the walk and the rest is appended as it is.
     */
    public static List<String> resolve(Path root, List<String> components, boolean create, String what) throws IOException {
        Deque<String> pending = new ArrayDeque<>(components);
        List<String> done = new ArrayList<>();
        int links = 0;
        while (!pending.isEmpty()) {
            String part = pending.pollFirst();
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (!done.isEmpty()) {
                    done.removeLast();
                }
                continue;
            }
            Path here = join(root, done).resolve(part);
            BasicFileAttributes attrs;
            try {
                attrs = Files.readAttributes(here, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                if (!create) {
                    done.add(part);
                    done.addAll(pending);
                    return done;
                }
                Files.createDirectory(here);
                done.add(part);
                continue;
            }
            if (attrs.isSymbolicLink()) {
                if (++links > MAX_LINKS) {
                    throw new BasaltException.InvalidArgument(what + ": too many levels of symbolic links under '"
                            + String.join("/", components) + "'");
                }
                String target = Files.readSymbolicLink(here).toString();
                if (target.startsWith("/")) {
                    done.clear();
                }
                List<String> targetParts = List.of(target.split("/"));
                for (int i = targetParts.size() - 1; i >= 0; i--) {
                    pending.addFirst(targetParts.get(i));
                }
                continue;
            }
            if (!attrs.isDirectory() && !pending.isEmpty()) {
                throw new BasaltException.InvalidArgument(what + ": '" + String.join("/", done) + "/" + part
                        + "' is not a directory, but the archive has entries below it");
            }
            done.add(part);
        }
        return done;
    }

    /** {@code root} joined with relative components. */
    public static Path join(Path root, List<String> components) {
        Path p = root;
        for (String c : components) {
            p = p.resolve(c);
        }
        return p;
    }
}
