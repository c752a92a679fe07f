package dev.basalt.vmm.qemu;

import dev.basalt.api.BasaltException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The native helpers built from {@code basalt-vmm/src/main/c} into this module's jar: the launcher
 * ({@code basalt-launch}, a static program that applies a {@link dev.basalt.vmm.LaunchPolicy} and
 * execs the VMM) and the descriptor shim a confined VMM preloads ({@code basalt-fdshim.so}). Each is
 * copied once to {@code ~/.cache/basalt/bin/<name>-<sha256>} (a private directory, named by content
 * so that versions never clash) and used from there.
 */
final class NativeLauncher {
    static final String LAUNCHER = "basalt-launch";
    static final String FD_SHIM = "basalt-fdshim.so";
    private static final Map<String, Path> INSTALLED = new ConcurrentHashMap<>();

    private NativeLauncher() {
    }

    /** The launcher's path, installing it on first use. */
    static Path path() {
        return installed(LAUNCHER);
    }

    /** The descriptor shim's path, installing it on first use. */
    static Path fdShim() {
        return installed(FD_SHIM);
    }

    private static Path installed(String name) {
        return INSTALLED.computeIfAbsent(name, NativeLauncher::install);
    }

    private static Path install(String name) {
        String resource = "/dev/basalt/vmm/native/" + name;
        byte[] binary;
        try (InputStream in = NativeLauncher.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new BasaltException.Internal(resource + " is missing from basalt-vmm's jar "
                        + "(it is built with gcc by Maven: rebuild basalt-vmm)");
            }
            binary = in.readAllBytes();
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot read " + resource + ": " + e.getMessage(), e);
        }
        String sha = sha256(binary);
        Path dir = Path.of(System.getProperty("user.home"), ".cache", "basalt", "bin");
        int dot = name.indexOf('.');
        Path target = dir.resolve((dot < 0 ? name : name.substring(0, dot)) + "-" + sha.substring(0, 16)
                + (dot < 0 ? "" : name.substring(dot)));
        try {
            if (Files.isRegularFile(target) && sha256(Files.readAllBytes(target)).equals(sha)) {
                return target;
            }
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            Path tmp = Files.createTempFile(dir, "." + name, ".tmp");
            try {
                Files.write(tmp, binary);
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("r-xr-xr-x"));
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return target;
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot install " + name + " in " + dir + ": " + e.getMessage(), e);
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
