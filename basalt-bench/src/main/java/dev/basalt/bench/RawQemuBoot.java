package dev.basalt.bench;

import dev.basalt.core.GuestImage;
import dev.basalt.protocol.Decoded;
import dev.basalt.protocol.Frame;
import dev.basalt.protocol.FrameCodec;
import dev.basalt.protocol.FrameDecoder;
import dev.basalt.protocol.Message;
import dev.basalt.api.SandboxSpec;
import dev.basalt.vmm.MemoryBacking;
import dev.basalt.vmm.VmConfig;
import dev.basalt.vmm.qemu.QemuHypervisor;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The baseline: QEMU started by hand with the same command line Basalt uses, timed until the
 * guest has run a first {@code true} — HELLO, then EXEC, then its EXIT, as bare frames on a bare
 * socket. No Basalt code runs in between (no manager, no agent client), so Basalt's overhead is
 * its create-to-first-exec minus this: the same work, with and without Basalt.
 */
final class RawQemuBoot {
    private RawQemuBoot() {
    }

    /** Boots once and returns the seconds from process start to the EXIT of a first {@code true}. */
    static double bootOnce(QemuHypervisor qemu, GuestImage image, Path workDir) throws Exception {
        Path dir = Files.createTempDirectory(workDir, "raw");
        VmConfig config = image.vmConfig("raw", SandboxSpec.defaults(), new MemoryBacking.Anonymous());
        List<String> cmd = qemu.commandLine(config, dir);
        // the QEMU backend's run-directory layout: the agent port's socket and QEMU's log
        Path agentSocket = dir.resolve("agent.sock");
        Path vmmLog = dir.resolve("vmm.log");
        long start = System.nanoTime();
        Process process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(vmmLog.toFile()).start();
        try {
            while (!Files.exists(agentSocket)) {
                if (!process.isAlive()) {
                    throw new IOException("QEMU exited: " + Files.readString(vmmLog));
                }
                Thread.sleep(0, 200_000);
            }
            try (SocketChannel ch = connect(agentSocket)) {
                ch.write(ByteBuffer.wrap(FrameCodec.encode(new Frame(1, new Message.Hello(1)))));
                FrameDecoder decoder = new FrameDecoder();
                ByteBuffer buf = ByteBuffer.allocate(4096);
                while (true) {
                    buf.clear();
                    if (ch.read(buf) < 0) {
                        throw new IOException("agent socket closed before HELLO_REPLY");
                    }
                    buf.flip();
                    for (Decoded d : decoder.feed(toArray(buf))) {
                        if (d instanceof Frame f && f.message() instanceof Message.HelloReply) {
                            ch.write(ByteBuffer.wrap(FrameCodec.encode(new Frame(2, new Message.Exec(
                                    List.of("true"), List.of(), "/", 0, java.util.Set.of(), 0, 0, 0, 0)))));
                        }
                        if (d instanceof Frame f && f.message() instanceof Message.Exit) {
                            return (System.nanoTime() - start) / 1e9;
                        }
                    }
                }
            }
        } finally {
            process.destroyForcibly();
            process.waitFor();
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    /** QEMU binds its socket a moment before it listens: retry a refused connection. */
    private static SocketChannel connect(Path socket) throws IOException, InterruptedException {
        while (true) {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
                return ch;
            } catch (java.net.ConnectException e) {
                ch.close();
                Thread.sleep(0, 200_000);
            }
        }
    }

    private static byte[] toArray(ByteBuffer buf) {
        byte[] b = new byte[buf.remaining()];
        buf.get(b);
        return b;
    }
}
