package org.permd.bridge.core;

import org.json.JSONObject;

/**
 * PermdCalls is the one way the bridge talks to permd: a JSON-RPC call
 * that returns the result object or throws. On a device it is backed by
 * the Java client's connection to /dev/socket/permd; on a host by a
 * unix-socket link to a daemon started by the test script. Keeping the
 * bridge's logic behind this narrow seam is what lets it run on a host
 * JVM, where android.* does not exist.
 */
public interface PermdCalls {
    /**
     * call sends one request and waits for its reply.
     *
     * @throws Exception the daemon's error (with its code and message) or
     *     a transport failure; the caller decides whether to retry
     */
    JSONObject call(String method, JSONObject params) throws Exception;
}
