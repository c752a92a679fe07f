package dev.basalt.net.host;

import dev.basalt.api.BasaltException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs the host tools networking needs ({@code ip}, {@code nft}, {@code nsenter}) with a deadline,
 * and turns every failure into a {@link BasaltException} that names the command and its output.
 * A missing tool is named with the Debian package that provides it.
 */
public final class Commands {
    private static final Map<String, String> PACKAGES = Map.of(
            "nft", "nftables", "ip", "iproute2", "nsenter", "util-linux", "dnsmasq", "dnsmasq-base");
    private static final long TIMEOUT_SECONDS = 20;

    private Commands() {}

    /** The result of a command that exited 0. */
    public record Output(String stdout, String stderr) {}

    /** Runs {@code cmd} with {@code stdin} (may be null); throws unless it exits 0. */
    public static Output run(List<String> cmd, String stdin) {
        Process p;
        try {
            p = new ProcessBuilder(cmd).start();
        } catch (IOException e) {
            throw missingTool(cmd, e);
        }
        try {
            // stdout and stderr are read on virtual threads so that a chatty command never blocks on a full pipe
            CompletableFuture<String> out = drain(p.getInputStream());
            CompletableFuture<String> err = drain(p.getErrorStream());
            try (OutputStream in = p.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                // the command exited without reading its input: its exit status says why
            }
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor();
                throw new BasaltException.Internal("'" + String.join(" ", cmd) + "' did not finish within " + TIMEOUT_SECONDS + " s");
            }
            String stdout = out.join();
            String stderr = err.join();
            if (p.exitValue() != 0) {
                String input = stdin == null ? "" : "\ninput:\n" + numbered(stdin);
                throw new BasaltException.Internal("'" + String.join(" ", cmd) + "' failed (exit " + p.exitValue() + "): "
                        + (stderr.isBlank() ? stdout : stderr).strip() + input);
            }
            return new Output(stdout, stderr);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new BasaltException.Unavailable("interrupted while running '" + String.join(" ", cmd) + "'", e);
        }
    }

    private static CompletableFuture<String> drain(InputStream in) {
        CompletableFuture<String> result = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (in) {
                result.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                result.complete("");
            }
        });
        return result;
    }

    static String numbered(String text) {
        StringBuilder b = new StringBuilder();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length && i < 400; i++) {
            b.append(String.format("%4d  %s%n", i + 1, lines[i]));
        }
        return b.toString();
    }

    private static BasaltException missingTool(List<String> cmd, IOException e) {
        String tool = cmd.getFirst();
        String pkg = PACKAGES.get(java.nio.file.Path.of(tool).getFileName().toString());
        return new BasaltException.Unavailable("cannot run '" + tool + "'" + (pkg == null ? "" : ": install the Debian package " + pkg
                + " (apt-get install " + pkg + ")") + " — " + e.getMessage(), e);
    }

    /** Throws a clear error unless {@code tool} can be started (checked once at start-up). */
    public static void requireTool(String tool, String versionArg) {
        run(List.of(tool, versionArg), null);
    }
}
