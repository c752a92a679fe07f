package dev.basalt.image.dockerfile;

import dev.basalt.api.BasaltException;
import dev.basalt.image.oci.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * The directory a build copies files from. Sources are resolved inside it only (a {@code ..} or
 * an absolute source is refused; symlinks are copied as links, never followed out of it) and
 * hashed by content, so a COPY step is cached exactly as long as its files do not change.
 */
public final class BuildContext {
    private final Path dir;

    /** One file to copy: where it is in the context and where it goes in the image. */
    public record Entry(Path source, String destination, boolean directory, boolean symlink) {
    }

    public BuildContext(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new BasaltException.InvalidArgument("build context " + dir + " is not a directory");
        }
        this.dir = dir.toAbsolutePath().normalize();
    }

    public Path dir() {
        return dir;
    }

    /**
     * What a COPY of {@code sources} to {@code destination} (absolute, already joined with the
     * working directory) writes, docker's way: a directory source copies its contents; several
     * sources, or a destination ending in '/', make the destination a directory.
     *
     * @throws BasaltException.InvalidArgument for a source outside the context or one that matches nothing
     */
    public List<Entry> resolve(List<String> sources, String destination, String where) throws IOException {
        List<Path> matched = new ArrayList<>();
        for (String s : sources) {
            matched.addAll(match(s, where));
        }
        boolean intoDir = destination.endsWith("/") || matched.size() > 1
                || matched.size() == 1 && Files.isDirectory(matched.getFirst(), LinkOption.NOFOLLOW_LINKS);
        String dest = destination.endsWith("/") && destination.length() > 1
                ? destination.substring(0, destination.length() - 1) : destination;
        List<Entry> out = new ArrayList<>();
        for (Path m : matched) {
            if (Files.isDirectory(m, LinkOption.NOFOLLOW_LINKS)) {
                try (Stream<Path> walk = Files.walk(m)) {
                    for (Path p : walk.sorted().toList()) {
                        String rel = m.relativize(p).toString();
                        String target = rel.isEmpty() ? dest : join(dest, rel);
                        out.add(entry(p, target));
                    }
                }
            } else {
                out.add(entry(m, intoDir ? join(dest, m.getFileName().toString()) : dest));
            }
        }
        return out;
    }

    /** A content hash of what {@link #resolve} gives: paths, types, modes, contents, link targets. */
    public String hash(List<Entry> entries) throws IOException {
        MessageDigest sha = Digest.sha256(new byte[0]).newHasher();
        byte[] buf = new byte[64 * 1024];
        for (Entry e : entries) {
            BasicFileAttributes a = Files.readAttributes(e.source(), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            int mode = (int) Files.getAttribute(e.source(), "unix:mode", LinkOption.NOFOLLOW_LINKS);
            sha.update((e.destination() + "\0" + Integer.toOctalString(mode) + "\0").getBytes(StandardCharsets.UTF_8));
            if (a.isSymbolicLink()) {
                sha.update(Files.readSymbolicLink(e.source()).toString().getBytes(StandardCharsets.UTF_8));
            } else if (a.isRegularFile()) {
                try (InputStream in = Files.newInputStream(e.source(), LinkOption.NOFOLLOW_LINKS)) {
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        sha.update(buf, 0, n);
                    }
                }
            }
            sha.update((byte) '\n');
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private Entry entry(Path p, String destination) throws IOException {
        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!a.isRegularFile() && !a.isDirectory() && !a.isSymbolicLink()) {
            throw new BasaltException.InvalidArgument(p + " in the build context is neither a file, a directory nor a"
                    + " symlink");
        }
        return new Entry(p, destination, a.isDirectory(), a.isSymbolicLink());
    }

    private List<Path> match(String source, String where) throws IOException {
        String s = source;
        while (s.startsWith("./")) {
            s = s.substring(2);
        }
        if (s.startsWith("/") || List.of(s.split("/")).contains("..")) {
            throw new BasaltException.InvalidArgument(where + ": source '" + source + "' is outside the build context");
        }
        if (s.isEmpty() || s.equals(".")) {
            return List.of(dir);
        }
        if (s.chars().noneMatch(c -> c == '*' || c == '?' || c == '[')) {
            Path p = dir.resolve(s).normalize();
            if (!p.startsWith(dir) || !Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                throw new BasaltException.InvalidArgument(where + ": source '" + source + "' is not in the build context "
                        + dir);
            }
            checkNoSymlinkParents(p, source, where);
            return List.of(p);
        }
        PathMatcher glob = FileSystems.getDefault().getPathMatcher("glob:" + s);
        List<Path> hits;
        try (Stream<Path> walk = Files.walk(dir)) {
            hits = walk.filter(p -> !p.equals(dir) && glob.matches(dir.relativize(p))).sorted().toList();
        }
        if (hits.isEmpty()) {
            throw new BasaltException.InvalidArgument(where + ": source '" + source + "' matches nothing in the build context");
        }
        return hits;
    }

    /** A source reached through a symlinked directory could be outside the context. */
    private void checkNoSymlinkParents(Path p, String source, String where) {
        for (Path q = p.getParent(); q != null && q.startsWith(dir) && !q.equals(dir); q = q.getParent()) {
            if (Files.isSymbolicLink(q)) {
                throw new BasaltException.InvalidArgument(where + ": source '" + source + "' lies below a symlink ("
                        + dir.relativize(q) + ") of the build context");
            }
        }
    }

    private static String join(String dir, String rel) {
        return dir.endsWith("/") ? dir + rel : dir + "/" + rel;
    }
}
