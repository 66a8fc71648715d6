package org.permd.client;

import org.json.JSONArray;
import org.json.JSONObject;

/**
 * IndicatorSnapshot is the whole indicator state. {@link #seq()} never
 * goes backwards for a listener, across reconnects and daemon restarts
 * too; {@link #daemonSeq()} is the daemon's own number.
 */
public final class IndicatorSnapshot extends JsonResult {
    private final long seq;

    IndicatorSnapshot(JSONObject json, long seq) {
        super(json);
        this.seq = seq;
    }

    /** seq is the client-side sequence: strictly increasing per listener. */
    public long seq() {
        return seq;
    }

    /** daemonSeq is the seq permd sent (restarts at a daemon restart). */
    public long daemonSeq() {
        return json.optLong("seq");
    }

    /** on reports whether resource (e.g. "camera") is shown. */
    public boolean on(String resource) {
        JSONArray rs = json.optJSONArray("resources");
        for (int i = 0; rs != null && i < rs.length(); i++) {
            JSONObject r = rs.optJSONObject(i);
            if (r != null && resource.equals(r.optString("resource"))) {
                return r.optBoolean("on");
            }
        }
        return false;
    }

    /** resources are the indicated resources, in display order. */
    public JSONArray resources() {
        JSONArray rs = json.optJSONArray("resources");
        return rs == null ? new JSONArray() : rs;
    }
}
