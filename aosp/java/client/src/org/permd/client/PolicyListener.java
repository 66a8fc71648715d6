package org.permd.client;

import org.json.JSONObject;

/**
 * PolicyListener follows permd's grant policy as the client's decision
 * cache receives it (policy.subscribe), so a caller that must act on every
 * change (the bridge re-plans Android's modes) needs no subscription of
 * its own. Calls come on the client's executor, one at a time, in the
 * order the cache applied them: a snapshot first (again after every
 * reconnect, and after a gap), then each change that follows it. Nothing
 * is skipped between two snapshots, so a listener may keep its own copy.
 */
public interface PolicyListener {
    /** onSnapshot replaces everything: {seq, time_zone, categories, grants}, as policy.subscribe returns it. */
    void onSnapshot(JSONObject snapshot);

    /** onChange is the next policy.changed params ({seq, set} or {seq, removed}) after the last call. */
    void onChange(JSONObject change);
}
