package org.permd.client;

import org.json.JSONObject;

/** Grant is the user's choice for one (user, package, category). */
public final class Grant extends JsonResult {
    Grant(JSONObject json) {
        super(json);
    }

    /** of wraps a grant object, e.g. one to pass to grants.set. */
    public static Grant of(JSONObject json) {
        return new Grant(json);
    }

    /** user is the Android user id. */
    public int user() {
        return json.optInt("user");
    }

    /** packageName is the app's package. */
    public String packageName() {
        return json.optString("package");
    }

    /** category is the Art. 30 category id. */
    public String category() {
        return json.optString("category");
    }

    /** decision is allow or deny. */
    public String decision() {
        return json.optString("decision");
    }

    /** timeMode is once, while_in_use, duration, until, window or always. */
    public String timeMode() {
        JSONObject t = json.optJSONObject("time");
        return t == null ? "" : t.optString("mode");
    }

    /** level is the granted precision level. */
    public String level() {
        JSONObject p = json.optJSONObject("precision");
        return p == null ? "" : p.optString("level");
    }

    /** version increases with every change of this grant. */
    public long version() {
        return json.optLong("version");
    }
}
