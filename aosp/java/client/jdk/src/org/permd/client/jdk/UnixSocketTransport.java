package org.permd.client.jdk;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import org.permd.client.Transport;

/**
 * UnixSocketTransport reaches permd on a host (and in tests) through a
 * unix-domain SocketChannel (Java 16+).
 *
 * <p>It does not use {@code Channels.newInputStream/newOutputStream}: those
 * streams synchronize on the channel's blocking lock, so a reader thread
 * blocked in read would hold up every write, and a pipelined client would
 * stall. SocketChannel's own read and write take separate locks, so the
 * streams here call them directly.
 */
public final class UnixSocketTransport implements Transport {
    private final Path path;

    /** UnixSocketTransport for the socket at path. */
    public UnixSocketTransport(Path path) {
        this.path = path;
    }

    @Override
    public Connection connect() throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(path));
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        return new Conn(ch);
    }

    private static final class Conn implements Connection {
        private final SocketChannel ch;
        private final InputStream in;
        private final OutputStream out;

        Conn(SocketChannel ch) {
            this.ch = ch;
            this.in = new InputStream() {
                @Override
                public int read() throws IOException {
                    byte[] b = new byte[1];
                    int n = read(b, 0, 1);
                    return n < 0 ? -1 : b[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (len == 0) {
                        return 0;
                    }
                    return ch.read(ByteBuffer.wrap(b, off, len));
                }
            };
            this.out = new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    ByteBuffer buf = ByteBuffer.wrap(b, off, len);
                    while (buf.hasRemaining()) {
                        ch.write(buf);
                    }
                }
            };
        }

        @Override
        public InputStream in() {
            return in;
        }

        @Override
        public OutputStream out() {
            return out;
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }
}
