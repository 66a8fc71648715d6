package org.permd.client;

/**
 * PermdUnavailableException means permd could not be reached, or the
 * connection broke before the reply arrived. The call may or may not have
 * been applied; the client reconnects by itself.
 */
public class PermdUnavailableException extends PermdException {
    private static final long serialVersionUID = 1L;

    /** PermdUnavailableException with a message and cause. */
    public PermdUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
