package org.permd.client;

/**
 * PermdException is the base of every failure the client reports. Its
 * subclasses say whether permd answered with an error
 * ({@link PermdRpcException}), could not be reached
 * ({@link PermdUnavailableException}), did not answer in time
 * ({@link PermdTimeoutException}) or sent something that is not the
 * protocol ({@link PermdProtocolException}).
 */
public class PermdException extends Exception {
    private static final long serialVersionUID = 1L;

    /** PermdException with a message. */
    public PermdException(String message) {
        super(message);
    }

    /** PermdException with a message and a cause. */
    public PermdException(String message, Throwable cause) {
        super(message, cause);
    }
}
