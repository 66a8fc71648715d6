package org.permd.bridge.core;

import org.json.JSONObject;
import org.permd.client.PermdClient;

/**
 * ClientCalls is PermdCalls over the Java client (org.permd.client): the
 * client owns the connection, reconnects, and keeps the uses it started
 * alive with heartbeats.
 */
public final class ClientCalls implements PermdCalls {
    private final PermdClient client;

    /** ClientCalls sends every call through client. */
    public ClientCalls(PermdClient client) {
        this.client = client;
    }

    @Override
    public JSONObject call(String method, JSONObject params) throws Exception {
        Object r = client.call(method, params);
        if (r instanceof JSONObject) {
            return (JSONObject) r;
        }
        return new JSONObject().put("value", r);
    }
}
