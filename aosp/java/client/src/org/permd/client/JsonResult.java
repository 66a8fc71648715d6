package org.permd.client;

import org.json.JSONObject;

/**
 * JsonResult is a typed view of one reply object. Typed getters cover
 * the fields callers use; {@link #json()} gives the whole object, so a
 * field added by a newer daemon is never out of reach.
 */
public class JsonResult {
    final JSONObject json;

    JsonResult(JSONObject json) {
        this.json = json == null ? new JSONObject() : json;
    }

    /** json is the reply object as received. */
    public JSONObject json() {
        return json;
    }

    @Override
    public String toString() {
        return json.toString();
    }
}
