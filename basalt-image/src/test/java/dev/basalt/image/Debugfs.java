package dev.basalt.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/** Reads an ext4 image with e2fsprogs (debugfs, e2fsck): what tests check images with, nothing mounted. */
public final class Debugfs {
    private final Path image;

    public Debugfs(Path image) {
        this.image = image;
    }

    /** e2fsck -fn: the file system is clean. */
    public void check() throws IOException {
        Result r = run(List.of("e2fsck", "-fn", image.toString()));
        assertThat(r.code()).as("e2fsck -fn %s:\n%s", image, r.out()).isZero();
    }

    public String stat(String path) throws IOException {
        return run(List.of("debugfs", "-R", "stat " + path, image.toString())).out();
    }

    public String read(String path) throws IOException {
        return run(List.of("debugfs", "-R", "cat " + path, image.toString())).out();
    }

    /** Names in a directory, one per line. */
    public String ls(String path) throws IOException {
        return run(List.of("debugfs", "-R", "ls -l " + path, image.toString())).out();
    }

    public record Result(int code, String out) {
    }

    static Result run(List<String> cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            return new Result(p.waitFor(), out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
