package org.permd.bridge.core;

import java.util.logging.Level;
import java.util.logging.Logger;
import org.json.JSONException;
import org.json.JSONObject;
import org.permd.client.PolicyListener;

/**
 * ClientPolicy keeps the bridge's PolicyCache current from the Java
 * client's own policy subscription (PermdClient.addPolicyListener with
 * decisionCache on), so the bridge holds no subscription of its own: one
 * connection, one of permd's policy subscriber slots. After every applied
 * snapshot or change it runs onChange (the glue re-plans); every snapshot
 * after the first means the client reconnected (permd may have
 * restarted), and runs onReconnect too.
 */
public final class ClientPolicy implements PolicyListener {
    private static final Logger LOG = Logger.getLogger("PermdBridge");
    private final PolicyCache cache;
    private final Runnable onChange;
    private final Runnable onReconnect;
    private boolean seen; // a snapshot was applied before; calls come one at a time

    /** ClientPolicy feeds cache and calls onChange after each change, onReconnect after each later snapshot. */
    public ClientPolicy(PolicyCache cache, Runnable onChange, Runnable onReconnect) {
        this.cache = cache;
        this.onChange = onChange;
        this.onReconnect = onReconnect;
    }

    @Override
    public void onSnapshot(JSONObject snapshot) {
        try {
            cache.snapshot(snapshot);
        } catch (JSONException e) {
            // A snapshot the cache cannot read leaves the old policy in place:
            // the next snapshot (reconnect) replaces it.
            LOG.log(Level.SEVERE, "policy snapshot unreadable; keeping the previous policy", e);
            return;
        }
        boolean again = seen;
        seen = true;
        if (again) {
            onReconnect.run();
        }
        onChange.run();
    }

    @Override
    public void onChange(JSONObject change) {
        try {
            if (!cache.changed(change)) {
                // The client delivers changes in seq order and resubscribes
                // itself after a gap; a gap here means that snapshot is coming.
                LOG.warning("policy change out of sequence; waiting for the next snapshot");
                return;
            }
        } catch (JSONException e) {
            LOG.log(Level.SEVERE, "policy change unreadable; waiting for the next snapshot", e);
            return;
        }
        onChange.run();
    }
}
