package org.permd.bridge.core;

import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.List;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * Planner turns permd's grants into the app-op modes and runtime grants
 * Android must hold now, without any Android API: a pure function of
 * (grants, zone, now, served counts, requested permissions).
 *
 * <p>What each grant becomes:
 * <ul>
 * <li>deny: every op of the category MODE_IGNORED, its permissions
 *     revoked with USER_FIXED;</li>
 * <li>allow, in force now: permissions granted; ops MODE_ALLOWED when
 *     background use is allowed, else MODE_FOREGROUND (Android's own
 *     while-in-use mode);</li>
 * <li>allow, not in force now (outside its daily window, past its
 *     duration/until, or its frequency cap reached): ops MODE_IGNORED
 *     (the app gets empty data), permission kept so it comes back by
 *     itself at the next window, and a wake-up at that edge;</li>
 * <li>location below "exact": ACCESS_FINE_LOCATION revoked (not fixed)
 *     and its op ignored, so the app gets Android's approximate fix;
 *     the background permission only with background use.</li>
 * </ul>
 * Frequency caps of "session" and the "once" mode depend on foreground
 * sessions permd tracks; the bridge leaves them to permd's own expiry.
 */
public final class Planner {
    private final Catalogue catalogue;
    private final PackageSurface packages;
    private final FrequencyCounter counter;

    /** Planner plans with the catalogue's op/permission mapping. */
    public Planner(Catalogue catalogue, PackageSurface packages, FrequencyCounter counter) {
        this.catalogue = catalogue;
        this.packages = packages;
        this.counter = counter;
    }

    /** plan computes the desired state for every grant at instant now. */
    public Plan plan(List<JSONObject> grants, ZoneId zone, long now) throws JSONException {
        Plan p = new Plan();
        for (JSONObject g : grants) {
            planGrant(p, g, zone, now);
        }
        return p;
    }

    private void planGrant(Plan p, JSONObject g, ZoneId zone, long now) throws JSONException {
        String category = g.getString("category");
        String pkg = g.getString("package");
        int user = g.getInt("user");
        int uid = g.optInt("uid", -1);
        int installed = packages.uid(pkg, user);
        if (installed < 0) {
            return; // not installed for this user: nothing on Android to change
        }
        if (uid >= 0 && installed != uid) {
            // A grant made for an earlier install of the package: a
            // reinstalled app starts without it (permd revokes it once
            // packages.list shows the new uid).
            return;
        }
        uid = installed;
        List<String> requested = packages.requested(pkg, user);
        List<String> ops = catalogue.ops(category);
        List<String> perms = catalogue.permissions(category);
        if (!g.optString("decision", "allow").equals("allow")) {
            for (String op : ops) {
                setMode(p, op, uid, AppOpsSurface.MODE_IGNORED, "denied");
            }
            for (String perm : perms) {
                if (requested.contains(perm)) {
                    p.grants.put(Plan.grantKey(user, pkg, perm), Plan.Grant.DENIED);
                    p.category.put(Plan.grantKey(user, pkg, perm), category);
                }
            }
            return;
        }
        JSONObject time = g.optJSONObject("time");
        String mode = time == null ? "always" : time.optString("mode", "always");
        boolean background = mode.equals("always") || (time != null && time.optBoolean("background"));
        if (category.equals("camera") || category.equals("microphone")) {
            background = false;
        }
        if (category.equals("location") && mode.equals("always")) {
            background = time != null && time.optBoolean("background");
        }
        String off = null; // why the grant is not in force now
        switch (mode) {
            case "window": {
                long[] edges = window(time.getString("window"), zone, now);
                if (edges[1] <= edges[0]) {
                    // A window across midnight ("22:00-06:00"): in force
                    // before today's end and from today's start.
                    if (now < edges[1]) {
                        p.wakeAt(edges[1]);
                    } else if (now < edges[0]) {
                        off = "outside_window";
                        p.wakeAt(edges[0]);
                    } else {
                        p.wakeAt(edges[3]);
                    }
                } else if (now < edges[0]) {
                    off = "outside_window";
                    p.wakeAt(edges[0]);
                } else if (now < edges[1]) {
                    p.wakeAt(edges[1]);
                } else {
                    off = "outside_window";
                    p.wakeAt(edges[2]);
                }
                break;
            }
            case "duration": {
                long end = Instant.parse(g.getString("set")).toEpochMilli()
                        + durationMs(time.getString("for"));
                if (now >= end) {
                    off = "expired";
                } else {
                    p.wakeAt(end);
                }
                break;
            }
            case "until": {
                long end = Instant.parse(time.getString("until")).toEpochMilli();
                if (now >= end) {
                    off = "expired";
                } else {
                    p.wakeAt(end);
                }
                break;
            }
            default:
                break;
        }
        JSONObject freq = g.optJSONObject("frequency");
        if (off == null && freq != null && counter != null) {
            String per = freq.getString("per");
            long end = FrequencyCounter.windowEnd(per, now, zone);
            if (end > 0 && counter.count(uid, category, per, now) >= freq.getLong("max")) {
                off = "frequency_limit";
                p.wakeAt(end);
            }
        }
        String level = g.has("precision") ? g.getJSONObject("precision").optString("level", "") : "";
        boolean coarseOnly = category.equals("location") && !level.isEmpty() && !level.equals("exact");
        int on = background ? AppOpsSurface.MODE_ALLOWED : AppOpsSurface.MODE_FOREGROUND;
        for (String op : ops) {
            if (off != null) {
                setMode(p, op, uid, AppOpsSurface.MODE_IGNORED, off);
            } else if (coarseOnly && op.equals("android:fine_location")) {
                setMode(p, op, uid, AppOpsSurface.MODE_IGNORED, "reduced_precision:" + level);
            } else {
                setMode(p, op, uid, on, "granted");
            }
        }
        for (String perm : perms) {
            if (!requested.contains(perm)) {
                continue;
            }
            Plan.Grant want = Plan.Grant.GRANTED;
            if (coarseOnly && perm.equals("android.permission.ACCESS_FINE_LOCATION")) {
                want = Plan.Grant.REVOKED;
            }
            if (perm.equals("android.permission.ACCESS_BACKGROUND_LOCATION") && !background) {
                want = Plan.Grant.REVOKED;
            }
            p.grants.put(Plan.grantKey(user, pkg, perm), want);
            p.category.put(Plan.grantKey(user, pkg, perm), category);
        }
    }

    private static void setMode(Plan p, String op, int uid, int mode, String why) {
        String k = Plan.modeKey(op, uid);
        Integer had = p.modes.get(k);
        // Two grants on one uid (a shared uid): the stricter mode wins.
        if (had == null || strictness(mode) > strictness(had)) {
            p.modes.put(k, mode);
            p.why.put(k, why);
        }
    }

    private static int strictness(int mode) {
        switch (mode) {
            case AppOpsSurface.MODE_ALLOWED:
                return 0;
            case AppOpsSurface.MODE_FOREGROUND:
                return 1;
            default:
                return 2;
        }
    }

    /**
     * window returns {start, end, next start, next end} of the daily
     * window "HH:MM-HH:MM" on the day of now in zone; end is not after
     * start for a window across midnight.
     */
    static long[] window(String w, ZoneId zone, long now) {
        String[] parts = w.split("-");
        LocalTime a = LocalTime.parse(parts[0]);
        LocalTime b = LocalTime.parse(parts[1]);
        ZonedDateTime day = Instant.ofEpochMilli(now).atZone(zone).toLocalDate().atStartOfDay(zone);
        long start = day.toLocalDate().atTime(a).atZone(zone).toInstant().toEpochMilli();
        long end = day.toLocalDate().atTime(b).atZone(zone).toInstant().toEpochMilli();
        long next = day.toLocalDate().plusDays(1).atTime(a).atZone(zone).toInstant().toEpochMilli();
        long nextEnd = day.toLocalDate().plusDays(1).atTime(b).atZone(zone).toInstant().toEpochMilli();
        return new long[] {start, end, next, nextEnd};
    }

    /** durationMs parses permd's durations ("90m", "24h", "1h30m", "168h"). */
    static long durationMs(String d) {
        long total = 0;
        long n = 0;
        boolean digits = false;
        for (int i = 0; i < d.length(); i++) {
            char c = d.charAt(i);
            if (c >= '0' && c <= '9') {
                n = n * 10 + (c - '0');
                digits = true;
                continue;
            }
            if (!digits) {
                throw new IllegalArgumentException("duration " + d + ": unit without a number");
            }
            switch (c) {
                case 'h':
                    total += n * 3_600_000L;
                    break;
                case 'm':
                    total += n * 60_000L;
                    break;
                case 's':
                    total += n * 1000L;
                    break;
                default:
                    throw new IllegalArgumentException("duration " + d + ": unknown unit " + c);
            }
            n = 0;
            digits = false;
        }
        if (digits) {
            throw new IllegalArgumentException("duration " + d + ": number without a unit");
        }
        return total;
    }
}
