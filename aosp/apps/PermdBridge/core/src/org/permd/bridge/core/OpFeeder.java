package org.permd.bridge.core;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.json.JSONArray;
import org.json.JSONObject;

/**
 * OpFeeder turns what AppOpsManager and ActivityManager tell the bridge
 * into permd calls:
 * <ul>
 * <li>active ops (OnOpActiveChangedListener) → op.start / op.finish, so
 *     the indicators show the use and the ledger gets its span;</li>
 * <li>noted ops (OnOpNotedListener) → access records with the result
 *     Android gave (clipboard and device-identifier reads as their own
 *     kinds), sent in batches through ledger.report;</li>
 * <li>uid importance → app.state; a uid gone → proc.died.</li>
 * </ul>
 * Methods may be called from any thread; each permd call happens on the
 * caller's thread (the glue runs them on one background handler).
 */
public final class OpFeeder {
    /** ServedListener hears of every access Android allowed, for frequency caps. */
    public interface ServedListener {
        /** served is called once per allowed noted op of a grant category. */
        void served(int uid, String category, long timeMs);
    }

    // AppOpsManager.OP_FLAG_*: a note carries exactly one of them.
    static final int OP_FLAG_SELF = 0x1;
    static final int OP_FLAG_TRUSTED_PROXY = 0x2;
    static final int OP_FLAG_UNTRUSTED_PROXY = 0x4;
    static final int OP_FLAG_TRUSTED_PROXIED = 0x8;
    static final int OP_FLAG_UNTRUSTED_PROXIED = 0x10;

    // ActivityManager.RunningAppProcessInfo.IMPORTANCE_*.
    static final int IMPORTANCE_FOREGROUND_SERVICE = 125;
    static final int IMPORTANCE_VISIBLE = 200;
    static final int IMPORTANCE_GONE = 1000;

    private static final Logger LOG = Logger.getLogger("PermdBridge");

    private final PermdCalls permd;
    private final Catalogue catalogue;
    private final LongSupplier clock;
    private final ServedListener served;

    private final Object lock = new Object();
    private final Map<UseKey, Long> uses = new LinkedHashMap<>();
    private final Map<Integer, String> states = new HashMap<>();
    private final List<JSONObject> pending = new ArrayList<>();
    private long dropped;
    private volatile RecordedElsewhere hook;

    /**
     * RecordedElsewhere says whether an access of uid/pkg in category was
     * already recorded by the frameworks/base at-access hook (patch 0001).
     */
    public interface RecordedElsewhere {
        /** recorded is true when the hook decided, and so recorded, this access. */
        boolean recorded(int uid, String pkg, String category);
    }

    /** OpFeeder feeds permd; served may be null. */
    public OpFeeder(PermdCalls permd, Catalogue catalogue, LongSupplier clock, ServedListener served) {
        this.permd = permd;
        this.catalogue = catalogue;
        this.clock = clock;
        this.served = served;
    }

    /**
     * recordedByHook tells the feeder that the at-access hook runs in
     * system_server: a noted op hook says it recorded is not recorded
     * again (it still counts for the bridge's frequency caps). The hook
     * records exactly the accesses under a permd grant: it decided them,
     * its record carries permd's reason, and a refusal never reaches
     * AppOps, so only the hook sees it. Null: no hook, record every note.
     */
    public void recordedByHook(RecordedElsewhere h) {
        hook = h;
    }

    /** UseKey identifies one running use as AppOpsManager reports it. */
    private static final class UseKey {
        final String op;
        final int uid;
        final String pkg;
        final String tag;

        UseKey(String op, int uid, String pkg, String tag) {
            this.op = op;
            this.uid = uid;
            this.pkg = pkg;
            this.tag = tag;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof UseKey)) {
                return false;
            }
            UseKey k = (UseKey) o;
            return uid == k.uid && op.equals(k.op) && pkg.equals(k.pkg) && Objects.equals(tag, k.tag);
        }

        @Override
        public int hashCode() {
            return Objects.hash(op, uid, pkg, tag);
        }
    }

    /** resourceOf returns the indicator resource of an active op, or null. */
    static String resourceOf(String op) {
        switch (op) {
            case "android:camera":
            case "android:phone_call_camera":
                return "camera";
            case "android:record_audio":
            case "android:phone_call_microphone":
            case "android:receive_ambient_trigger_audio":
                return "microphone";
            case "android:monitor_location":
            case "android:monitor_high_power_location":
                return "location";
            default:
                return null;
        }
    }

    /**
     * activeChanged is OnOpActiveChangedListener.onOpActiveChanged. A
     * start is sent as op.start and its use id kept; the matching stop
     * sends op.finish. A stop without a known start (the bridge started
     * while the op ran) is not invented into a span: it is logged only.
     */
    public void activeChanged(String op, int uid, String pkg, String attributionTag, boolean active) throws Exception {
        String resource = resourceOf(op);
        if (resource == null) {
            return;
        }
        UseKey key = new UseKey(op, uid, pkg, attributionTag);
        if (active) {
            synchronized (lock) {
                if (uses.containsKey(key)) {
                    return; // Android reports one start per key; a repeat adds nothing
                }
            }
            long use = start(key, resource);
            synchronized (lock) {
                uses.put(key, use);
            }
            return;
        }
        Long use;
        synchronized (lock) {
            use = uses.remove(key);
        }
        if (use == null) {
            LOG.log(Level.INFO, "op stopped without a start seen: {0} uid {1}", new Object[] {op, uid});
            return;
        }
        try {
            permd.call("op.finish", new JSONObject().put("use", use.longValue()));
        } catch (Exception e) {
            // -32003: permd ended it already (death, timeout); nothing to do.
            if (!String.valueOf(e.getMessage()).contains("already ended")) {
                throw e;
            }
        }
    }

    private long start(UseKey key, String resource) throws Exception {
        JSONObject p = new JSONObject().put("resource", resource).put("uid", key.uid)
                .put("package", key.pkg).put("op", key.op);
        return permd.call("op.start", p).getLong("use");
    }

    /**
     * reconnected starts again every use still running: permd keeps no
     * uses across its own restart.
     */
    public void reconnected() throws Exception {
        List<UseKey> keys;
        synchronized (lock) {
            keys = new ArrayList<>(uses.keySet());
        }
        for (UseKey k : keys) {
            long use = start(k, resourceOf(k.op));
            synchronized (lock) {
                if (uses.containsKey(k)) {
                    uses.put(k, use);
                }
            }
        }
    }

    /**
     * heartbeat renews the uses still running (op.heartbeat), so that a
     * long call or navigation is not ended by permd's max_span; a use
     * permd reports ended although Android still runs it is started
     * again. Call it well inside max_span (the glue: every 3 minutes).
     * It returns the number of uses renewed.
     */
    public int heartbeat() throws Exception {
        Map<Long, UseKey> byId = new HashMap<>();
        synchronized (lock) {
            for (Map.Entry<UseKey, Long> e : uses.entrySet()) {
                byId.put(e.getValue(), e.getKey());
            }
        }
        if (byId.isEmpty()) {
            return 0;
        }
        JSONObject r = permd.call("op.heartbeat", new JSONObject().put("uses", new JSONArray(byId.keySet())));
        JSONArray ended = r.optJSONArray("ended");
        for (int i = 0; ended != null && i < ended.length(); i++) {
            UseKey k = byId.get(ended.getLong(i));
            if (k == null) {
                continue;
            }
            long use = start(k, resourceOf(k.op));
            synchronized (lock) {
                if (uses.containsKey(k)) {
                    uses.put(k, use);
                }
            }
        }
        JSONArray active = r.optJSONArray("active");
        return active == null ? 0 : active.length();
    }

    /** activeUses is the number of uses the bridge holds open in permd. */
    public int activeUses() {
        synchronized (lock) {
            return uses.size();
        }
    }

    /**
     * noted is OnOpNotedListener.onOpNoted. The proxy's own note of a
     * proxied access is skipped: the same access arrives again as the
     * proxied app's note, and that app is the one the record names.
     * The record is queued; flush sends it.
     */
    public void noted(String op, int uid, String pkg, String attributionTag, int flags, int result) {
        if ((flags & (OP_FLAG_TRUSTED_PROXY | OP_FLAG_UNTRUSTED_PROXY)) != 0) {
            return;
        }
        String kind;
        String category;
        if (Catalogue.OP_READ_CLIPBOARD.equals(op)) {
            kind = "clipboard_read";
            category = "clipboard";
        } else if (Catalogue.OP_READ_DEVICE_IDENTIFIERS.equals(op)) {
            kind = "device_id_read";
            category = "device_id";
        } else {
            kind = "access";
            category = catalogue.category(op);
            if (category == null) {
                return;
            }
        }
        long now = clock.getAsLong();
        String res = resultOf(result);
        RecordedElsewhere h = hook;
        if (kind.equals("access") && h != null && h.recorded(uid, pkg, category)) {
            if (served != null && res.equals("allowed")) {
                served.served(uid, category, now);
            }
            return;
        }
        try {
            JSONObject r = new JSONObject().put("time_ms", now).put("uid", uid).put("kind", kind)
                    .put("category", category).put("op", op).put("result", res);
            String state = appState(uid);
            if (state != null) {
                r.put("app_state", state);
            }
            JSONObject detail = new JSONObject();
            if (kind.equals("access")) {
                if (attributionTag != null) {
                    detail.put("attribution_tag", attributionTag);
                }
                if (!res.equals("allowed")) {
                    detail.put("reason", "android:" + modeName(result));
                }
            } else {
                detail.put("api", "appops");
            }
            if (detail.length() > 0) {
                r.put("detail", detail);
            }
            synchronized (lock) {
                pending.add(r);
            }
        } catch (org.json.JSONException e) {
            throw new IllegalStateException("encode record", e);
        }
        if (served != null && res.equals("allowed") && kind.equals("access")) {
            served.served(uid, category, now);
        }
    }

    /** resultOf maps an AppOpsManager mode to the ledger's result. */
    static String resultOf(int mode) {
        // MODE_IGNORED gives the app nothing (an empty cursor, no fix), but
        // it is Android's refusal, not permd's decoy: recorded as denied.
        return mode == AppOpsSurface.MODE_ALLOWED ? "allowed" : "denied";
    }

    private static String modeName(int mode) {
        switch (mode) {
            case AppOpsSurface.MODE_IGNORED:
                return "ignored";
            case AppOpsSurface.MODE_ERRORED:
                return "errored";
            case AppOpsSurface.MODE_FOREGROUND:
                return "foreground";
            default:
                return "mode_" + mode;
        }
    }

    /**
     * flush sends the queued records in one ledger.report and returns how
     * many permd committed. On failure the records stay queued (up to a
     * bound; past it the oldest are dropped and the count is kept, so the
     * loss can be reported instead of hidden).
     */
    public int flush() throws Exception {
        List<JSONObject> batch;
        synchronized (lock) {
            if (pending.isEmpty()) {
                return 0;
            }
            batch = new ArrayList<>(pending.subList(0, Math.min(pending.size(), 250)));
        }
        JSONObject res = permd.call("ledger.report", new JSONObject().put("records", new JSONArray(batch)));
        synchronized (lock) {
            pending.subList(0, batch.size()).clear();
        }
        return res.getInt("committed");
    }

    /** queued is the number of records not yet sent. */
    public int queued() {
        synchronized (lock) {
            return pending.size();
        }
    }

    /** keepBounded drops the oldest queued records beyond max and counts them. */
    public long keepBounded(int max) {
        synchronized (lock) {
            int over = pending.size() - max;
            if (over > 0) {
                pending.subList(0, over).clear();
                dropped += over;
            }
            return dropped;
        }
    }

    /** stateOf maps an ActivityManager importance to permd's app state. */
    static String stateOf(int importance) {
        if (importance <= IMPORTANCE_FOREGROUND_SERVICE) {
            return "foreground";
        }
        if (importance <= IMPORTANCE_VISIBLE) {
            return "visible";
        }
        if (importance < IMPORTANCE_GONE) {
            return "background";
        }
        return "not_running";
    }

    /** appState is the last state seen for uid, or null before any report. */
    public String appState(int uid) {
        synchronized (lock) {
            return states.get(uid);
        }
    }

    /**
     * importance is OnUidImportanceListener.onUidImportance. A change of
     * state is sent as app.state; a uid that is gone also ends its uses
     * (proc.died without a pid: every process of the uid).
     */
    public void importance(int uid, int importance) throws Exception {
        String state = stateOf(importance);
        synchronized (lock) {
            if (state.equals(states.get(uid))) {
                return;
            }
            states.put(uid, state);
        }
        permd.call("app.state", new JSONObject().put("uid", uid).put("state", state));
        if (importance >= IMPORTANCE_GONE) {
            died(uid, 0);
        }
    }

    /** died reports a process death (IProcessObserver.onProcessDied); pid 0: the whole uid. */
    public int died(int uid, int pid) throws Exception {
        JSONObject p = new JSONObject().put("uid", uid);
        if (pid > 0) {
            p.put("pid", pid);
        }
        int ended = permd.call("proc.died", p).getInt("ended");
        if (pid <= 0) {
            // permd ended every use of the uid; forget them here too.
            synchronized (lock) {
                uses.keySet().removeIf(k -> k.uid == uid);
            }
        }
        return ended;
    }
}
