package org.permd.bridge.core;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.json.JSONException;
import org.json.JSONObject;
import org.permd.client.Transport;

/**
 * PolicyStream keeps a PolicyCache current over its own connection:
 * policy.subscribe, then every policy.changed notification, calling
 * onChange after each applied change. The Java client routes policy
 * notifications only into its private decision cache, so the bridge,
 * which must re-plan on every change, holds this one subscription itself
 * (one of permd's 64 policy subscriber slots).
 */
public final class PolicyStream {
    private final Transport transport;
    private final PolicyCache cache;
    private final Runnable onChange;
    private volatile Transport.Connection conn;

    /** PolicyStream feeds cache from transport's connections; onChange runs on the reading thread. */
    public PolicyStream(Transport transport, PolicyCache cache, Runnable onChange) {
        this.transport = transport;
        this.cache = cache;
        this.onChange = onChange;
    }

    /**
     * run connects, subscribes and applies changes until the connection
     * ends (returns normally then) or a line is malformed (throws). The
     * caller reconnects with backoff; each run starts from a fresh
     * snapshot, so nothing missed while disconnected is lost.
     */
    public void run() throws IOException, JSONException {
        Transport.Connection c = transport.connect();
        conn = c;
        try (c) {
            OutputStream out = c.out();
            JSONObject req = new JSONObject().put("jsonrpc", "2.0").put("id", 1).put("method", "policy.subscribe");
            out.write((req.toString() + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = new BufferedInputStream(c.in());
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) >= 0) {
                if (b != '\n') {
                    line.write(b);
                    continue;
                }
                JSONObject msg = new JSONObject(line.toString(StandardCharsets.UTF_8));
                line.reset();
                if (msg.has("error")) {
                    throw new IOException("policy.subscribe: " + msg.getJSONObject("error").optString("message"));
                }
                if (msg.has("result")) {
                    cache.snapshot(msg.getJSONObject("result"));
                } else if ("policy.changed".equals(msg.optString("method"))) {
                    if (!cache.changed(msg.getJSONObject("params"))) {
                        return; // a gap: reconnect for a new snapshot
                    }
                } else {
                    continue;
                }
                onChange.run();
            }
        } finally {
            conn = null;
        }
    }

    /** close ends the current run. */
    public void close() throws IOException {
        Transport.Connection c = conn;
        if (c != null) {
            c.close();
        }
    }
}
