package org.permd.client;

/** PermdTimeoutException means no reply came within the call's timeout. */
public class PermdTimeoutException extends PermdException {
    private static final long serialVersionUID = 1L;

    /** PermdTimeoutException with a message. */
    public PermdTimeoutException(String message) {
        super(message);
    }
}
