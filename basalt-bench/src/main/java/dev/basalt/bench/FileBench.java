package dev.basalt.bench;

import dev.basalt.api.ExecRequest;
import dev.basalt.core.SandboxManager;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.DigestInputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

/** 64 MiB host→guest and guest→host, content verified by SHA-256 on both sides. */
final class FileBench {
    private static final int SIZE = 64 << 20;
    private static final String PATH = "/tmp/bench.bin";

    private final SandboxManager manager;
    private final String id;

    FileBench(SandboxManager manager, String id) {
        this.manager = manager;
        this.id = id;
    }

    void run(Report report) throws Exception {
        byte[] data = new byte[SIZE];
        new Random(7).nextBytes(data);
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        List<Double> up = new ArrayList<>();
        List<Double> down = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            MessageDigest sent = MessageDigest.getInstance("SHA-256");
            long start = System.nanoTime();
            try (InputStream in = new DigestInputStream(new java.io.ByteArrayInputStream(data), sent)) {
                manager.writeFile(id, PATH, in, 0644);
            }
            up.add(mbPerSecond(System.nanoTime() - start));
            String guest = manager.exec(id, ExecRequest.of("sha256sum", PATH)).stdoutText().split(" ")[0];
            check(expected, guest, "upload");

            MessageDigest received = MessageDigest.getInstance("SHA-256");
            start = System.nanoTime();
            try (OutputStream out = new DigestOutputStream(OutputStream.nullOutputStream(), received)) {
                manager.readFile(id, PATH, out);
            }
            down.add(mbPerSecond(System.nanoTime() - start));
            check(expected, HexFormat.of().formatHex(received.digest()), "download");
            // the guest's /tmp is a RAM disk: make room for the next upload's temporary file
            manager.removeFile(id, PATH, false);
        }
        Stats u = Stats.of(up);
        Stats d = Stats.of(down);
        report.add("host→guest copy 64 MiB (SHA-256 verified)", String.format("%.0f MB/s", u.median()), "≥ 50 MB/s", u.median() >= 50);
        report.add("guest→host copy 64 MiB (SHA-256 verified)", String.format("%.0f MB/s", d.median()), "≥ 50 MB/s", d.median() >= 50);
    }

    private static double mbPerSecond(long nanos) {
        return SIZE / 1e6 / (nanos / 1e9);
    }

    private static void check(String expected, String actual, String what) {
        if (!expected.equals(actual)) {
            throw new IllegalStateException(what + " corrupted the file: sha256 " + actual + " != " + expected);
        }
    }
}
