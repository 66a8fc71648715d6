package org.permd.client.android;

import android.net.LocalSocket;
import android.net.LocalSocketAddress;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.permd.client.Transport;

/**
 * LocalSocketTransport reaches permd on a device through the socket init
 * creates from permd.rc ({@code /dev/socket/permd}), the way AOSP's
 * LmkdConnection reaches lmkd: a LocalSocket in the RESERVED namespace.
 * LocalSocket's streams may be read and written from different threads.
 */
public final class LocalSocketTransport implements Transport {
    private final String name;

    /** LocalSocketTransport for the reserved socket "permd". */
    public LocalSocketTransport() {
        this("permd");
    }

    /** LocalSocketTransport for another reserved socket name (tests). */
    public LocalSocketTransport(String name) {
        this.name = name;
    }

    @Override
    public Connection connect() throws IOException {
        LocalSocket s = new LocalSocket(LocalSocket.SOCKET_STREAM);
        try {
            s.connect(new LocalSocketAddress(name, LocalSocketAddress.Namespace.RESERVED));
        } catch (IOException e) {
            s.close();
            throw e;
        }
        return new Connection() {
            @Override
            public InputStream in() throws IOException {
                return s.getInputStream();
            }

            @Override
            public OutputStream out() throws IOException {
                return s.getOutputStream();
            }

            @Override
            public void close() throws IOException {
                s.close();
            }
        };
    }
}
