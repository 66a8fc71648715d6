package org.permd.client;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * CheckResult is the answer to one access check: from perm.check, or from
 * the in-process decision cache, which answers with the same fields and
 * the same values as permd would (the shared decision vectors prove it).
 * Its fields are plain values so the cached hot path builds no JSON.
 */
public final class CheckResult {
    /** REASON_UNAVAILABLE is the reason when permd could not be asked. */
    public static final String REASON_UNAVAILABLE = "permd_unavailable";

    final boolean allowed;
    final String result;
    final String reason;
    final String pkg;
    final String category;
    final String level;
    final String effect;
    final int radiusM;
    final String scope;
    final List<String> items;
    final long remaining;
    final String appState;
    final boolean cached;

    CheckResult(boolean allowed, String result, String reason, String pkg, String category, String level,
            String effect, int radiusM, String scope, List<String> items, long remaining, String appState,
            boolean cached) {
        this.allowed = allowed;
        this.result = result;
        this.reason = reason;
        this.pkg = pkg == null ? "" : pkg;
        this.category = category;
        this.level = level == null ? "" : level;
        this.effect = effect == null ? "" : effect;
        this.radiusM = radiusM;
        this.scope = scope == null ? "" : scope;
        this.items = items == null ? Collections.<String>emptyList() : items;
        this.remaining = remaining;
        this.appState = appState == null ? "" : appState;
        this.cached = cached;
    }

    static CheckResult fromJson(JSONObject j) {
        List<String> items = null;
        JSONArray a = j.optJSONArray("items");
        if (a != null) {
            items = new ArrayList<>(a.length());
            for (int i = 0; i < a.length(); i++) {
                items.add(a.optString(i));
            }
        }
        return new CheckResult(j.optBoolean("allowed"), j.optString("result"), j.optString("reason"),
                j.optString("package"), j.optString("category"), j.optString("level"), j.optString("effect"),
                j.optInt("radius_m"), j.optString("scope"), items, j.optLong("remaining", -1),
                j.optString("app_state"), false);
    }

    /** allowed says whether to serve the access (maybe reduced or empty). */
    public boolean allowed() {
        return allowed;
    }

    /** result is allowed, reduced, decoy, denied or rate_limited. */
    public String result() {
        return result;
    }

    /** reason says why, e.g. granted, outside_window, no_grant. */
    public String reason() {
        return reason;
    }

    /** packageName is the package whose grant decided, "" if none. */
    public String packageName() {
        return pkg;
    }

    /** category is the Art. 30 category decided. */
    public String category() {
        return category;
    }

    /** level is the precision level to apply, "" when none. */
    public String level() {
        return level;
    }

    /** effect is full, radius, selected, subset or empty ("" if denied). */
    public String effect() {
        return effect;
    }

    /** radiusM is the radius to coarsen a location to (effect radius). */
    public int radiusM() {
        return radiusM;
    }

    /** scope is the part of the data to serve (effect subset). */
    public String scope() {
        return scope;
    }

    /** items are the ids the user selected (effect selected). */
    public List<String> items() {
        return items;
    }

    /** remaining is the accesses left in the frequency window, -1 if none. */
    public long remaining() {
        return remaining;
    }

    /** appState is the app state the decision used, "" when unknown. */
    public String appState() {
        return appState;
    }

    /** cached says the in-process cache answered (no round trip). */
    public boolean cached() {
        return cached;
    }

    /** json renders the result with perm.check's field names and omissions. */
    public JSONObject json() {
        JSONObject j = new JSONObject();
        try {
            j.put("allowed", allowed);
            j.put("result", result);
            j.put("reason", reason);
            if (!pkg.isEmpty()) {
                j.put("package", pkg);
            }
            j.put("category", category);
            if (!level.isEmpty()) {
                j.put("level", level);
            }
            if (!effect.isEmpty()) {
                j.put("effect", effect);
            }
            if (radiusM != 0) {
                j.put("radius_m", radiusM);
            }
            if (!scope.isEmpty()) {
                j.put("scope", scope);
            }
            if (!items.isEmpty()) {
                j.put("items", new JSONArray(items));
            }
            j.put("remaining", remaining);
            j.put("app_state", appState);
        } catch (JSONException e) {
            throw new IllegalStateException(e);
        }
        return j;
    }

    @Override
    public String toString() {
        return json().toString();
    }
}
