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

/**
 * The launcher program ({@code basalt-vmm/src/main/c/basalt-launch.c}, built into this module's
 * jar as a static binary) that applies a {@link dev.basalt.vmm.LaunchPolicy} and execs the VMM.
 * It is copied once to {@code ~/.cache/basalt/bin/basalt-launch-<sha256>} (a private directory,
 * named by content so that versions never clash) and run from there.
 */
final class NativeLauncher {
    private static final String RESOURCE = "/dev/basalt/vmm/native/basalt-launch";
    private static volatile Path path;

    private NativeLauncher() {
    }

    /** The launcher's path, installing it on first use. */
    static Path path() {
        Path p = path;
        if (p == null) {
            synchronized (NativeLauncher.class) {
                p = path;
                if (p == null) {
                    p = install();
                    path = p;
                }
            }
        }
        return p;
    }

    private static Path install() {
        byte[] binary;
        try (InputStream in = NativeLauncher.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new BasaltException.Internal("the VMM launcher " + RESOURCE + " is missing from basalt-vmm's jar "
                        + "(it is built with gcc by Maven: rebuild basalt-vmm)");
            }
            binary = in.readAllBytes();
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot read the VMM launcher: " + e.getMessage(), e);
        }
        String sha = sha256(binary);
        Path dir = Path.of(System.getProperty("user.home"), ".cache", "basalt", "bin");
        Path target = dir.resolve("basalt-launch-" + sha.substring(0, 16));
        try {
            if (Files.isExecutable(target) && sha256(Files.readAllBytes(target)).equals(sha)) {
                return target;
            }
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            Path tmp = Files.createTempFile(dir, ".basalt-launch", ".tmp");
            try {
                Files.write(tmp, binary);
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("r-x------"));
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return target;
        } catch (IOException e) {
            throw new BasaltException.Internal("cannot install the VMM launcher in " + dir + ": " + e.getMessage(), e);
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
