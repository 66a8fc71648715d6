package org.permd.client;

/**
 * PermdProtocolException means the peer sent something that is not the
 * protocol (a line that is not JSON, a reply with neither result nor
 * error, a truncated line). The connection is dropped and rebuilt.
 */
public class PermdProtocolException extends PermdException {
    private static final long serialVersionUID = 1L;

    /** PermdProtocolException with a message and cause. */
    public PermdProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
