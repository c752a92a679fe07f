package dev.basalt.image.fs;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/** Builds layer tars in memory, hostile ones included. */
public final class TarBuilder {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final TarArchiveOutputStream tar;

    public TarBuilder() {
        tar = new TarArchiveOutputStream(bytes);
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    }

    public TarBuilder dir(String name, int mode) {
        TarArchiveEntry e = new TarArchiveEntry(name.endsWith("/") ? name : name + "/");
        e.setMode(040000 | mode);
        return put(e, null);
    }

    public TarBuilder file(String name, String content) {
        return file(name, content, 0644, 0, 0);
    }

    public TarBuilder file(String name, String content, int mode, int uid, int gid) {
        TarArchiveEntry e = new TarArchiveEntry(name);
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        e.setSize(data.length);
        e.setMode(0100000 | mode);
        e.setUserId(uid);
        e.setGroupId(gid);
        return put(e, data);
    }

    public TarBuilder symlink(String name, String target) {
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
        e.setLinkName(target);
        return put(e, null);
    }

    public TarBuilder hardlink(String name, String target) {
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_LINK);
        e.setLinkName(target);
        return put(e, null);
    }

    public TarBuilder device(String name, boolean block, int major, int minor) {
        TarArchiveEntry e = new TarArchiveEntry(name, block ? TarConstants.LF_BLK : TarConstants.LF_CHR);
        e.setDevMajor(major);
        e.setDevMinor(minor);
        return put(e, null);
    }

    public TarBuilder fifo(String name) {
        return put(new TarArchiveEntry(name, TarConstants.LF_FIFO), null);
    }

    private TarBuilder put(TarArchiveEntry e, byte[] data) {
        try {
            tar.putArchiveEntry(e);
            if (data != null) {
                tar.write(data);
            }
            tar.closeArchiveEntry();
            return this;
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    public byte[] build() {
        try {
            tar.finish();
            tar.close();
            return bytes.toByteArray();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    public byte[] gzip() {
        byte[] plain = build();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(plain);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return out.toByteArray();
    }
}
