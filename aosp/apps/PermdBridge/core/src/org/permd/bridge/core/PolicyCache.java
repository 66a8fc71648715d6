package org.permd.bridge.core;

import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * PolicyCache holds permd's current grants as policy.subscribe streams
 * them: the reply's snapshot, then policy.changed notifications applied
 * in seq order. A gap in seq means a change was missed, so the cache
 * asks for a new snapshot instead of guessing.
 */
public final class PolicyCache {
    private final Map<String, JSONObject> grants = new TreeMap<>();
    private long seq = -1;
    private ZoneId zone = ZoneId.systemDefault();

    /** key names a grant: user, package, category. */
    static String key(int user, String pkg, String category) {
        return user + "/" + pkg + "/" + category;
    }

    /** snapshot replaces everything with a policy.subscribe result (or a snapshot notification). */
    public synchronized void snapshot(JSONObject snap) throws JSONException {
        grants.clear();
        JSONArray a = snap.getJSONArray("grants");
        for (int i = 0; i < a.length(); i++) {
            JSONObject g = a.getJSONObject(i);
            grants.put(key(g.getInt("user"), g.getString("package"), g.getString("category")), g);
        }
        String tz = snap.optString("time_zone", "");
        zone = tz.isEmpty() ? ZoneId.systemDefault() : ZoneId.of(tz);
        seq = snap.getLong("seq");
    }

    /**
     * changed applies one policy.changed notification. It returns false
     * when the notification is not the next in sequence: the caller must
     * resubscribe (a snapshot follows from permd after a gap anyway).
     * Notifications at or below the held seq are old and ignored.
     */
    public synchronized boolean changed(JSONObject p) throws JSONException {
        long s = p.getLong("seq");
        if (p.has("snapshot")) {
            snapshot(p.getJSONObject("snapshot"));
            seq = s;
            return true;
        }
        if (s <= seq) {
            return true;
        }
        if (s != seq + 1) {
            return false;
        }
        seq = s;
        if (p.has("set")) {
            JSONObject g = p.getJSONObject("set");
            grants.put(key(g.getInt("user"), g.getString("package"), g.getString("category")), g);
        } else if (p.has("removed")) {
            JSONObject r = p.getJSONObject("removed");
            String k = key(r.getInt("user"), r.getString("package"), r.getString("category"));
            JSONObject held = grants.get(k);
            // A removal of an older version than the one held is stale.
            if (held != null && held.optInt("version") <= r.optInt("version")) {
                grants.remove(k);
            }
        }
        return true;
    }

    /** seq is the last change applied (-1 before the first snapshot). */
    public synchronized long seq() {
        return seq;
    }

    /** zone is the time zone of daily windows and day limits. */
    public synchronized ZoneId zone() {
        return zone;
    }

    /** has says whether a grant for user, pkg and category is held. */
    public synchronized boolean has(int user, String pkg, String category) {
        return grants.containsKey(key(user, pkg, category));
    }

    /** grants returns the current grants, sorted by user, package, category. */
    public synchronized List<JSONObject> grants() {
        return new ArrayList<>(grants.values());
    }
}
