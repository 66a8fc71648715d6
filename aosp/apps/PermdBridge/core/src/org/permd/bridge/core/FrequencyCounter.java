package org.permd.bridge.core;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;

/**
 * FrequencyCounter counts the accesses Android allowed per (uid,
 * category) in clock-aligned windows, as permd counts its frequency
 * limits (minute, hour, day in the policy's zone). Without the
 * at-access patch this is how a cap is enforced: once the count reaches
 * the cap the ops are set to MODE_IGNORED until the window ends. It
 * counts only what the bridge observed (noted ops), never guesses.
 */
public final class FrequencyCounter implements OpFeeder.ServedListener {
    private final Map<String, long[]> counts = new HashMap<>();
    private volatile ZoneId zone = ZoneId.systemDefault();

    /** setZone sets the zone days are counted in. */
    public void setZone(ZoneId z) {
        zone = z;
    }

    /** windowStart returns the start of the per-window containing t, or -1 for an unknown per. */
    public static long windowStart(String per, long t, ZoneId zone) {
        ZonedDateTime z = Instant.ofEpochMilli(t).atZone(zone);
        switch (per) {
            case "minute":
                return z.truncatedTo(ChronoUnit.MINUTES).toInstant().toEpochMilli();
            case "hour":
                return z.truncatedTo(ChronoUnit.HOURS).toInstant().toEpochMilli();
            case "day":
                return z.truncatedTo(ChronoUnit.DAYS).toInstant().toEpochMilli();
            default:
                return -1;
        }
    }

    /** windowEnd returns the end of the per-window containing t, or -1. */
    public static long windowEnd(String per, long t, ZoneId zone) {
        ZonedDateTime z = Instant.ofEpochMilli(t).atZone(zone);
        switch (per) {
            case "minute":
                return z.truncatedTo(ChronoUnit.MINUTES).plusMinutes(1).toInstant().toEpochMilli();
            case "hour":
                return z.truncatedTo(ChronoUnit.HOURS).plusHours(1).toInstant().toEpochMilli();
            case "day":
                return z.truncatedTo(ChronoUnit.DAYS).plusDays(1).toInstant().toEpochMilli();
            default:
                return -1;
        }
    }

    @Override
    public void served(int uid, String category, long timeMs) {
        synchronized (counts) {
            for (String per : new String[] {"minute", "hour", "day"}) {
                String k = uid + "/" + category + "/" + per;
                long start = windowStart(per, timeMs, zone);
                long[] c = counts.get(k);
                if (c == null || c[0] != start) {
                    counts.put(k, new long[] {start, 1});
                } else {
                    c[1]++;
                }
            }
        }
    }

    /** count returns the accesses served to uid in category within the per-window containing t. */
    public long count(int uid, String category, String per, long t) {
        synchronized (counts) {
            long[] c = counts.get(uid + "/" + category + "/" + per);
            return c != null && c[0] == windowStart(per, t, zone) ? c[1] : 0;
        }
    }
}
