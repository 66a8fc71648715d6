package org.permd.bridge.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * Catalogue maps Android app-ops and runtime permissions to permd's
 * categories. It is read from permd's grants.catalogue, so the daemon
 * stays the one place where the mapping is defined.
 */
public final class Catalogue {
    /** ACTIVE_OPS are the ops Android starts and finishes (long uses shown by the indicators). */
    public static final List<String> ACTIVE_OPS = List.of(
            "android:camera", "android:record_audio", "android:phone_call_microphone",
            "android:phone_call_camera", "android:monitor_location", "android:monitor_high_power_location",
            "android:receive_ambient_trigger_audio");

    /** OP_READ_CLIPBOARD is AppOpsManager.OPSTR_READ_CLIPBOARD: recorded as kind clipboard_read. */
    public static final String OP_READ_CLIPBOARD = "android:read_clipboard";
    /** OP_READ_DEVICE_IDENTIFIERS is AppOpsManager.OPSTR_READ_DEVICE_IDENTIFIERS: kind device_id_read. */
    public static final String OP_READ_DEVICE_IDENTIFIERS = "android:read_device_identifiers";

    private final Map<String, String> opCategory = new LinkedHashMap<>();
    private final Map<String, List<String>> categoryOps = new LinkedHashMap<>();
    private final Map<String, List<String>> categoryPerms = new LinkedHashMap<>();

    private Catalogue() {}

    /** fromJson reads the result of grants.catalogue. */
    public static Catalogue fromJson(JSONObject result) throws JSONException {
        Catalogue c = new Catalogue();
        JSONArray cats = result.getJSONArray("categories");
        for (int i = 0; i < cats.length(); i++) {
            JSONObject cat = cats.getJSONObject(i);
            String id = cat.getString("id");
            List<String> ops = strings(cat.optJSONArray("app_ops"));
            List<String> perms = strings(cat.optJSONArray("permissions"));
            c.categoryOps.put(id, Collections.unmodifiableList(ops));
            c.categoryPerms.put(id, Collections.unmodifiableList(perms));
            for (String op : ops) {
                c.opCategory.putIfAbsent(op, id);
            }
        }
        return c;
    }

    /** load asks permd for its catalogue. */
    public static Catalogue load(PermdCalls permd) throws Exception {
        return fromJson(permd.call("grants.catalogue", new JSONObject().put("lang", "en")));
    }

    /** category returns the permd category of an app-op, or null when it has none. */
    public String category(String op) {
        return opCategory.get(op);
    }

    /** ops returns the app-ops of a category (empty for an unknown one). */
    public List<String> ops(String category) {
        return categoryOps.getOrDefault(category, List.of());
    }

    /** permissions returns the runtime permissions of a category. */
    public List<String> permissions(String category) {
        return categoryPerms.getOrDefault(category, List.of());
    }

    /** categories lists the category ids in catalogue order. */
    public List<String> categories() {
        return new ArrayList<>(categoryOps.keySet());
    }

    /** notedOps lists every op the bridge watches with startWatchingNoted. */
    public List<String> notedOps() {
        List<String> all = new ArrayList<>(opCategory.keySet());
        all.add(OP_READ_CLIPBOARD);
        all.add(OP_READ_DEVICE_IDENTIFIERS);
        return all;
    }

    private static List<String> strings(JSONArray a) throws JSONException {
        List<String> out = new ArrayList<>();
        if (a != null) {
            for (int i = 0; i < a.length(); i++) {
                out.add(a.getString(i));
            }
        }
        return out;
    }
}
