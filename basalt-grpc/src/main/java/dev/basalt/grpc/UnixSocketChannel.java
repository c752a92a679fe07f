package dev.basalt.grpc;

import io.grpc.ManagedChannel;
import io.grpc.okhttp.OkHttpChannelBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import javax.net.SocketFactory;

/**
 * A gRPC channel to a unix socket on grpc-java's OkHttp transport. The CLI's commands live for one
 * call, and in a fresh JVM this transport starts in about two thirds of the CPU time of the netty one
 * (no event-loop groups, no native library to extract and load, a smaller HTTP/2 stack); the daemon
 * keeps netty. OkHttp speaks to a {@link Socket}, which Java's API cannot open on a unix socket, so
 * {@link UnixSocket} adapts a unix-domain {@link SocketChannel} to it: blocking reads and writes from
 * the transport's reader and writer threads, the TCP-only settings accepted and ignored.
 */
final class UnixSocketChannel {
    private UnixSocketChannel() {
    }

    /** A plaintext channel to {@code socket} (the authority is "localhost": HTTP/2 needs one). */
    static ManagedChannel to(Path socket, int maxInboundMessageBytes) {
        return OkHttpChannelBuilder.forAddress("localhost", 1).usePlaintext().socketFactory(new Factory(socket))
                .maxInboundMessageSize(maxInboundMessageBytes).build();
    }

    /** Every socket it makes is connected to the one unix socket, whatever host and port it is asked for. */
    private static final class Factory extends SocketFactory {
        private final Path path;

        Factory(Path path) {
            this.path = path;
        }

        @Override
        public Socket createSocket() throws IOException {
            return new UnixSocket(path);
        }

        @Override
        public Socket createSocket(String host, int port) throws IOException {
            return new UnixSocket(path);
        }

        @Override
        public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
            return new UnixSocket(path);
        }

        @Override
        public Socket createSocket(InetAddress host, int port) throws IOException {
            return new UnixSocket(path);
        }

        @Override
        public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
            return new UnixSocket(path);
        }
    }

    /** A connected unix-domain socket behind the {@link Socket} methods the OkHttp transport calls. */
    static final class UnixSocket extends Socket {
        private static final SocketAddress LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        private final SocketChannel channel;
        private final InputStream in;
        private final OutputStream out;

        UnixSocket(Path path) throws IOException {
            this.channel = SocketChannel.open(UnixDomainSocketAddress.of(path));
            this.in = new InputStream() {
                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    return len == 0 ? 0 : channel.read(ByteBuffer.wrap(b, off, len));
                }
            };
            this.out = new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    ByteBuffer buffer = ByteBuffer.wrap(b, off, len);
                    while (buffer.hasRemaining()) {
                        channel.write(buffer);
                    }
                }
            };
        }

        @Override
        public InputStream getInputStream() {
            return in;
        }

        @Override
        public OutputStream getOutputStream() {
            return out;
        }

        @Override
        public void setTcpNoDelay(boolean on) {
            // no Nagle on a unix socket
        }

        @Override
        public void setSoTimeout(int timeout) {
            // the transport's own deadlines and keep-alives apply; reads block until data or close
        }

        @Override
        public void shutdownOutput() throws IOException {
            channel.shutdownOutput();
        }

        @Override
        public void shutdownInput() throws IOException {
            channel.shutdownInput();
        }

        @Override
        public synchronized void close() throws IOException {
            channel.close();
        }

        @Override
        public boolean isClosed() {
            return !channel.isOpen();
        }

        @Override
        public boolean isConnected() {
            return channel.isConnected();
        }

        @Override
        public SocketAddress getLocalSocketAddress() {
            return LOOPBACK;
        }

        @Override
        public SocketAddress getRemoteSocketAddress() {
            return LOOPBACK;
        }
    }
}
