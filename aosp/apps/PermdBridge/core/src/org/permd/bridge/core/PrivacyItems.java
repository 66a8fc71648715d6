package org.permd.bridge.core;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.IntPredicate;
import org.json.JSONArray;
import org.json.JSONObject;

/**
 * PrivacyItems is the Android-independent half of the SystemUI patch that
 * feeds the privacy indicators from permd's indicator.subscribe: it turns
 * a snapshot into the items SystemUI's PrivacyItemController draws
 * (camera, microphone, location; package, uid, start in elapsed time) and
 * merges them with Android's own app-op items.
 *
 * Only uses running now are items: an app permd shows only for its hold
 * ("active": 0) is left out, because SystemUI's PrivacyItemController
 * holds every item that disappears for its own time; reporting permd's
 * hold too would hold twice. The merge keeps every item either source
 * has (one per type, uid and package, Android's where both have it), so an
 * indicator Android shows is never hidden because permd does not know
 * the use, and a use only permd knows is shown too.
 */
public final class PrivacyItems {
    /** CAMERA, MICROPHONE and LOCATION are the types SystemUI draws (PrivacyType). */
    public static final String CAMERA = "camera";
    /** MICROPHONE is the microphone item type. */
    public static final String MICROPHONE = "microphone";
    /** LOCATION is the location item type. */
    public static final String LOCATION = "location";

    private PrivacyItems() {
    }

    /** Item is one app using one resource now. */
    public static final class Item {
        /** type is CAMERA, MICROPHONE or LOCATION. */
        public final String type;
        /** packageName is the app shown. */
        public final String packageName;
        /** uid is the app's uid. */
        public final int uid;
        /** startedElapsedMs is when the use began, in elapsed-realtime ms (-1 unknown). */
        public final long startedElapsedMs;

        /** Item is type used by packageName (uid) since startedElapsedMs. */
        public Item(String type, String packageName, int uid, long startedElapsedMs) {
            this.type = type;
            this.packageName = packageName;
            this.uid = uid;
            this.startedElapsedMs = startedElapsedMs;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Item)) {
                return false;
            }
            Item i = (Item) o;
            return type.equals(i.type) && packageName.equals(i.packageName) && uid == i.uid
                    && startedElapsedMs == i.startedElapsedMs;
        }

        @Override
        public int hashCode() {
            return Objects.hash(type, packageName, uid, startedElapsedMs);
        }

        @Override
        public String toString() {
            return type + " " + packageName + "(" + uid + ") since " + startedElapsedMs;
        }
    }

    /**
     * type maps a permd resource to the item type SystemUI draws, or null
     * for a resource SystemUI has no indicator for (an OEM may indicate
     * more resources in indicator.json; those stay in permd's own UI).
     */
    public static String type(String resource) {
        switch (resource) {
            case "camera":
                return CAMERA;
            case "microphone":
                return MICROPHONE;
            case "location":
                return LOCATION;
            default:
                return null;
        }
    }

    /**
     * fromSnapshot lists the items of a snapshot (indicator.get /
     * indicator.subscribe / indicator.changed params): apps with uses
     * running now, whose uid shown accepts (SystemUI shows the current
     * user's profiles), under resources SystemUI draws. Wall-clock starts
     * become elapsed time with the two clocks read together now; a start
     * that does not parse is -1 (SystemUI's unknown timestamp).
     */
    public static List<Item> fromSnapshot(JSONObject snapshot, IntPredicate shown, long nowWallMs,
            long nowElapsedMs) {
        List<Item> out = new ArrayList<>();
        JSONArray rs = snapshot.optJSONArray("resources");
        for (int i = 0; rs != null && i < rs.length(); i++) {
            JSONObject r = rs.optJSONObject(i);
            String type = r == null ? null : type(r.optString("resource"));
            if (type == null || !r.optBoolean("on")) {
                continue;
            }
            JSONArray apps = r.optJSONArray("apps");
            for (int j = 0; apps != null && j < apps.length(); j++) {
                JSONObject a = apps.optJSONObject(j);
                if (a == null || a.optInt("active") <= 0 || !a.has("uid") || !shown.test(a.optInt("uid"))) {
                    continue;
                }
                out.add(new Item(type, a.optString("package"), a.optInt("uid"),
                        elapsed(a.optString("since", null), nowWallMs, nowElapsedMs)));
            }
        }
        return out;
    }

    /**
     * merge is every item of android, then every item of permd for a
     * (type, uid, package) android has not: Android's own item is kept
     * as it is (SystemUI marks it paused when the sensor is muted).
     */
    public static List<Item> merge(List<Item> android, List<Item> permd) {
        Map<String, Item> m = new LinkedHashMap<>();
        for (List<Item> l : List.of(android, permd)) {
            for (Item it : l) {
                m.putIfAbsent(it.type + "\n" + it.uid + "\n" + it.packageName, it);
            }
        }
        return new ArrayList<>(m.values());
    }

    private static long elapsed(String since, long nowWallMs, long nowElapsedMs) {
        if (since == null) {
            return -1;
        }
        try {
            long e = nowElapsedMs - (nowWallMs - Instant.parse(since).toEpochMilli());
            return e < 0 ? 0 : e;
        } catch (DateTimeParseException ex) {
            return -1;
        }
    }
}
