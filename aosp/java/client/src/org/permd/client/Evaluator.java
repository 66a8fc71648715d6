package org.permd.client;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.zone.ZoneRules;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.json.JSONArray;
import org.json.JSONObject;

/**
 * Evaluator decides an access from a grant the way permd's engine does
 * (grants/engine.go Check): same results, reasons, levels and remaining
 * counts. The shared decision vectors, generated from the Go engine, hold
 * it to that. Daily windows are read in the policy's zone with
 * {@code java.time} rules and may cross midnight ("22:00-06:00").
 *
 * <p>Inputs it cannot know are the caller's: the app state and, for a
 * grant with a frequency cap, how many accesses the current window holds.
 * The decision cache never passes a count of its own: capped and once
 * grants are asked of permd (see {@link #needsDaemon}).
 */
public final class Evaluator {
    private Evaluator() {}

    /** Level is one precision level of a category. */
    static final class Level {
        final String id;
        final String effect;
        final int radiusM;
        final boolean custom;
        final String scope;

        Level(JSONObject j) {
            id = j.optString("id");
            effect = j.optString("effect");
            radiusM = j.optInt("radius_m");
            custom = j.optBoolean("custom");
            scope = j.optString("scope");
        }
    }

    /** Category is what a decision needs of a catalogue category. */
    static final class Category {
        final String id;
        final Map<String, Level> levels = new HashMap<>();

        Category(JSONObject j) {
            id = j.optString("id");
            JSONArray ls = j.optJSONArray("levels");
            for (int i = 0; ls != null && i < ls.length(); i++) {
                Level l = new Level(ls.optJSONObject(i));
                levels.put(l.id, l);
            }
        }
    }

    /** Compiled is a grant with everything a check needs precomputed. */
    static final class Compiled {
        final JSONObject json;
        final int user;
        final String pkg;
        final String category;
        final long version;
        final boolean deny;
        final String mode;
        final boolean background;
        final Instant end; // duration/until end; null otherwise
        final int win0; // window start, minutes; -1 without a window
        final int win1;
        final int freqMax; // 0 without a cap
        final String freqPer;
        final Level level;
        final int radiusM;
        final List<String> items;

        /**
         * opaque marks a grant this evaluator cannot read (a level or
         * window format from a newer permd): permd decides it.
         */
        final boolean opaque;

        /** of compiles g; a grant it cannot read becomes opaque, never an error. */
        static Compiled of(JSONObject g, Category cat) {
            try {
                return new Compiled(g, cat);
            } catch (RuntimeException e) {
                return new Compiled(g);
            }
        }

        private Compiled(JSONObject g) {
            json = g;
            opaque = true;
            user = g.optInt("user");
            pkg = g.optString("package");
            category = g.optString("category");
            version = g.optLong("version");
            deny = false;
            mode = "";
            background = false;
            end = null;
            win0 = -1;
            win1 = -1;
            freqMax = 0;
            freqPer = "";
            level = null;
            radiusM = 0;
            items = Collections.emptyList();
        }

        Compiled(JSONObject g, Category cat) {
            json = g;
            opaque = false;
            user = g.optInt("user");
            pkg = g.optString("package");
            category = g.optString("category");
            version = g.optLong("version");
            deny = "deny".equals(g.optString("decision"));
            JSONObject t = g.optJSONObject("time");
            if (t == null) {
                t = new JSONObject();
            }
            mode = t.optString("mode");
            background = t.optBoolean("background");
            Instant endAt = null;
            int w0 = -1;
            int w1 = -1;
            if (!deny && "duration".equals(mode)) {
                Instant set = OffsetDateTime.parse(g.optString("set")).toInstant();
                endAt = set.plusNanos(GoDuration.parseNanos(t.optString("for")));
            } else if (!deny && "until".equals(mode)) {
                endAt = OffsetDateTime.parse(t.optString("until")).toInstant();
            } else if (!deny && "window".equals(mode)) {
                String w = t.optString("window");
                if (!w.matches("\\d\\d:\\d\\d-\\d\\d:\\d\\d")) {
                    throw new IllegalArgumentException("window " + w + " is not HH:MM-HH:MM");
                }
                w0 = Integer.parseInt(w.substring(0, 2)) * 60 + Integer.parseInt(w.substring(3, 5));
                w1 = Integer.parseInt(w.substring(6, 8)) * 60 + Integer.parseInt(w.substring(9, 11));
            }
            end = endAt;
            win0 = w0;
            win1 = w1;
            JSONObject f = g.optJSONObject("frequency");
            freqMax = f == null ? 0 : f.optInt("max");
            freqPer = f == null ? "" : f.optString("per");
            JSONObject p = g.optJSONObject("precision");
            String lid = p == null ? "" : p.optString("level");
            Level l = cat == null ? null : cat.levels.get(lid);
            if (!deny && l == null) {
                throw new IllegalArgumentException("grant " + pkg + " " + category + ": unknown level \"" + lid + "\"");
            }
            level = l;
            radiusM = l != null && l.custom ? p.optInt("radius_m") : (l == null ? 0 : l.radiusM);
            JSONArray a = p == null ? null : p.optJSONArray("items");
            List<String> its = new ArrayList<>();
            for (int i = 0; a != null && i < a.length(); i++) {
                its.add(a.optString(i));
            }
            items = Collections.unmodifiableList(its);
        }
    }

    /**
     * needsDaemon says the grant's answer depends on what only permd holds:
     * a frequency cap (counts across all of system_server and restarts) or
     * a once grant (the app's foreground session history).
     */
    static boolean needsDaemon(Compiled g) {
        return g.opaque || !g.deny && (g.freqMax > 0 || "once".equals(g.mode));
    }

    static boolean inUse(String state) {
        return state == null || state.isEmpty() || "foreground".equals(state) || "visible".equals(state);
    }

    /**
     * decide answers one access. state is the app state ("" or null when
     * unknown, which counts as in use, as in permd); count is the served
     * accesses in the grant's current frequency window.
     */
    static CheckResult decide(Compiled g, Instant now, ZoneRules zone, String state, long count, boolean cached) {
        String st = state == null ? "" : state;
        if (g.deny) {
            return denied(g, "user_denied", st, cached);
        }
        if (!g.background && !inUse(st)) {
            if ("once".equals(g.mode)) {
                throw new IllegalStateException("once grants are decided by permd");
            }
            return denied(g, "background", st, cached);
        }
        switch (g.mode) {
            case "once":
                throw new IllegalStateException("once grants are decided by permd");
            case "duration":
            case "until":
                if (!now.isBefore(g.end)) {
                    return denied(g, "expired", st, cached);
                }
                break;
            case "window": {
                if (zone == null) {
                    throw new IllegalStateException("no zone rules for a window grant");
                }
                long sec = now.getEpochSecond() + zone.getOffset(now).getTotalSeconds();
                int m = (int) (Math.floorMod(sec, 86400L) / 60);
                boolean in = g.win0 < g.win1 ? (m >= g.win0 && m < g.win1) : (m >= g.win0 || m < g.win1);
                if (!in) {
                    return denied(g, "outside_window", st, cached);
                }
                break;
            }
            default:
                break;
        }
        long remaining = -1;
        if (g.freqMax > 0) {
            if (count >= g.freqMax) {
                return new CheckResult(false, "rate_limited", "frequency_limit", g.pkg, g.category, null, null, 0,
                        null, null, 0, st, cached);
            }
            remaining = g.freqMax - count - 1;
        }
        Level l = g.level;
        switch (l.effect) {
            case "full":
                return new CheckResult(true, "allowed", "granted", g.pkg, g.category, l.id, l.effect, 0, l.scope,
                        null, remaining, st, cached);
            case "empty":
                return new CheckResult(true, "decoy", "empty_data", g.pkg, g.category, l.id, l.effect, 0, l.scope,
                        null, remaining, st, cached);
            default:
                return new CheckResult(true, "reduced", "reduced_precision", g.pkg, g.category, l.id, l.effect,
                        g.radiusM, l.scope, "selected".equals(l.effect) ? g.items : null, remaining, st, cached);
        }
    }

    private static CheckResult denied(Compiled g, String reason, String st, boolean cached) {
        return new CheckResult(false, "denied", reason, g.pkg, g.category, null, null, 0, null, null, -1, st, cached);
    }

    /**
     * zoneRules resolves a policy zone name ("" is the device's zone); null
     * when this JVM does not know the zone: then window grants go to permd.
     */
    static ZoneRules zoneRules(String name) {
        try {
            return (name == null || name.isEmpty() ? ZoneId.systemDefault() : ZoneId.of(name)).getRules();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** needsZone says a grant's answer depends on the time of day. */
    static boolean needsZone(Compiled g) {
        return !g.deny && "window".equals(g.mode);
    }
}
