package org.permd.client;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Transport opens stream connections to permd. On Android it is
 * {@code LocalSocketTransport} (the reserved socket "permd"); on hosts the
 * JDK unix-domain transport. Implementations must allow one thread to
 * block in a read while another writes.
 */
public interface Transport {
    /** connect opens a new connection, or throws. */
    Connection connect() throws IOException;

    /** Connection is one open stream. */
    interface Connection extends Closeable {
        /** in is the stream of bytes from permd. */
        InputStream in() throws IOException;

        /** out is the stream of bytes to permd. */
        OutputStream out() throws IOException;
    }
}
