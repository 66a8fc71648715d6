package org.permd.client;

import java.time.zone.ZoneRules;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.json.JSONArray;
import org.json.JSONObject;

/**
 * PolicyCache is the in-process copy of permd's grants, fed by
 * policy.subscribe. Reads are lock-free (one volatile immutable view);
 * changes are applied in seq order on the connection's reader thread.
 * Until the first snapshot of the current connection has arrived, or
 * after a gap, it is not {@link #ready} and every check goes to permd.
 */
final class PolicyCache {
    /** View is one immutable state of the policy. */
    static final class View {
        final long seq;
        final String zoneName;
        final ZoneRules zone;
        final Map<String, Evaluator.Category> categories;
        final Map<String, Evaluator.Compiled> grants;

        View(long seq, String zoneName, Map<String, Evaluator.Category> categories, Map<String, Evaluator.Compiled> grants) {
            this.seq = seq;
            this.zoneName = zoneName;
            this.zone = Evaluator.zoneRules(zoneName);
            this.categories = categories;
            this.grants = grants;
        }

        /**
         * grantFor is the grant for uid's user, pkg and category, or null:
         * grants are per user, and a uid's user is uid / PER_USER_RANGE,
         * as Android's UserHandle.getUserId computes it.
         */
        Evaluator.Compiled grantFor(int uid, String pkg, String category) {
            return grants.get(key(uid / PER_USER_RANGE, pkg, category));
        }
    }

    /** PER_USER_RANGE is Android's UserHandle.PER_USER_RANGE. */
    static final int PER_USER_RANGE = 100000;

    private volatile View view; // null: not ready
    // The policy as permd sent it, for a listener added later
    // (PermdClient.addPolicyListener): categories and grants by key.
    private JSONObject rawSnapshot;
    private final Map<String, JSONObject> rawGrants = new HashMap<>();
    private Link link; // the link whose subscription feeds the cache
    private final List<JSONObject> early = new ArrayList<>(); // changes before the snapshot reply
    private final Runnable onGap;
    // tap sees every snapshot ("snapshot") and applied change ("change")
    // in the order applied, under this cache's lock; it must not block.
    private final BiConsumer<String, JSONObject> tap;

    PolicyCache(Runnable onGap) {
        this(onGap, (kind, msg) -> { });
    }

    PolicyCache(Runnable onGap, BiConsumer<String, JSONObject> tap) {
        this.onGap = onGap;
        this.tap = tap;
    }

    static String key(int user, String pkg, String category) {
        return user + "/" + pkg + "/" + category;
    }

    View view() {
        return view;
    }

    boolean ready() {
        return view != null;
    }

    /** begin starts a subscription on link: the old view is dropped. */
    synchronized void begin(Link l) {
        link = l;
        view = null;
        early.clear();
    }

    /** lost drops the view when its link died: permd may have restarted. */
    synchronized void lost(Link l) {
        if (link == l) {
            link = null;
            view = null;
            early.clear();
        }
    }

    /** snapshot installs the subscribe reply, then any earlier changes. */
    synchronized void snapshot(Link l, JSONObject snap) {
        if (l != link) {
            return;
        }
        view = build(snap);
        keepRaw(snap);
        tap.accept("snapshot", snap);
        List<JSONObject> pend = new ArrayList<>(early);
        early.clear();
        for (JSONObject c : pend) {
            applyLocked(c);
        }
    }

    /** changed applies one policy.changed notification. */
    synchronized void changed(Link l, JSONObject c) {
        if (l != link) {
            return;
        }
        if (view == null) {
            early.add(c);
            return;
        }
        applyLocked(c);
    }

    private void applyLocked(JSONObject c) {
        View v = view;
        long seq = c.optLong("seq");
        if (seq <= v.seq) {
            return; // already in the snapshot
        }
        JSONObject snap = c.optJSONObject("snapshot");
        if (snap != null) {
            view = build(snap);
            keepRaw(snap);
            tap.accept("snapshot", snap);
            return;
        }
        if (seq != v.seq + 1) {
            // permd never sends a gap; if one is seen anyway, stop answering
            // from a cache that may be wrong and resubscribe.
            view = null;
            link = null;
            onGap.run();
            return;
        }
        Map<String, Evaluator.Compiled> gs = new HashMap<>(v.grants);
        JSONObject set = c.optJSONObject("set");
        JSONObject removed = c.optJSONObject("removed");
        if (set != null) {
            Evaluator.Compiled g = Evaluator.Compiled.of(set, v.categories.get(set.optString("category")));
            gs.put(key(g.user, g.pkg, g.category), g);
            rawGrants.put(key(g.user, g.pkg, g.category), set);
        } else if (removed != null) {
            String k = key(removed.optInt("user"), removed.optString("package"), removed.optString("category"));
            Evaluator.Compiled cur = gs.get(k);
            if (cur != null && cur.version <= removed.optLong("version")) {
                gs.remove(k);
                rawGrants.remove(k);
            }
        }
        view = new View(seq, v.zoneName, v.categories, gs);
        tap.accept("change", c);
    }

    private void keepRaw(JSONObject snap) {
        rawSnapshot = snap;
        rawGrants.clear();
        JSONArray ga = snap.optJSONArray("grants");
        for (int i = 0; ga != null && i < ga.length(); i++) {
            JSONObject g = ga.optJSONObject(i);
            rawGrants.put(key(g.optInt("user"), g.optString("package"), g.optString("category")), g);
        }
    }

    /**
     * current hands the policy now, as a snapshot, to sink, under the
     * cache's lock, so that no change can come between it and the changes
     * the tap sees next; nothing when the cache is not ready.
     */
    synchronized void current(BiConsumer<String, JSONObject> sink) {
        View v = view;
        if (v == null || rawSnapshot == null) {
            return;
        }
        JSONObject snap = new JSONObject();
        try {
            for (java.util.Iterator<String> it = rawSnapshot.keys(); it.hasNext();) {
                String k = it.next();
                snap.put(k, rawSnapshot.get(k));
            }
            snap.put("seq", v.seq);
            snap.put("grants", new JSONArray(rawGrants.values()));
        } catch (org.json.JSONException e) {
            throw new IllegalStateException("copying the policy snapshot: " + e.getMessage(), e);
        }
        sink.accept("snapshot", snap);
    }

    static View build(JSONObject snap) {
        Map<String, Evaluator.Category> cats = new HashMap<>();
        JSONArray cs = snap.optJSONArray("categories");
        for (int i = 0; cs != null && i < cs.length(); i++) {
            Evaluator.Category c = new Evaluator.Category(cs.optJSONObject(i));
            cats.put(c.id, c);
        }
        Map<String, Evaluator.Compiled> gs = new HashMap<>();
        JSONArray ga = snap.optJSONArray("grants");
        for (int i = 0; ga != null && i < ga.length(); i++) {
            JSONObject g = ga.optJSONObject(i);
            Evaluator.Compiled c = Evaluator.Compiled.of(g, cats.get(g.optString("category")));
            gs.put(key(c.user, c.pkg, c.category), c);
        }
        return new View(snap.optLong("seq"), snap.optString("time_zone", ""), cats, gs);
    }
}
