package org.permd.bridge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.time.ZoneId;
import org.json.JSONObject;
import org.junit.Test;

/**
 * PolicyCacheTest covers the stream rules of policy.subscribe that a live
 * daemon rarely shows: old and stale notifications, gaps, and the
 * duration syntax the planner reads.
 */
public class PolicyCacheTest {
    private static JSONObject grant(String pkg, int version) throws Exception {
        return new JSONObject().put("user", 0).put("package", pkg).put("category", "camera").put("uid", 10100)
                .put("decision", "allow").put("version", version);
    }

    @Test
    public void appliesInOrderAndRefusesGaps() throws Exception {
        PolicyCache c = new PolicyCache();
        c.snapshot(new JSONObject().put("seq", 5).put("time_zone", "Asia/Shanghai")
                .put("grants", new org.json.JSONArray().put(grant("a", 1))));
        assertEquals(ZoneId.of("Asia/Shanghai"), c.zone());
        assertTrue(c.changed(new JSONObject().put("seq", 6).put("set", grant("b", 1))));
        assertEquals(2, c.grants().size());
        // An old notification (arrived before the reply) changes nothing.
        assertTrue(c.changed(new JSONObject().put("seq", 4).put("set", grant("c", 1))));
        assertEquals(2, c.grants().size());
        // A removal of an older version than the one held is stale.
        assertTrue(c.changed(new JSONObject().put("seq", 7).put("set", grant("a", 3))));
        assertTrue(c.changed(new JSONObject().put("seq", 8).put("removed",
                new JSONObject().put("user", 0).put("package", "a").put("category", "camera").put("version", 2))));
        assertEquals(2, c.grants().size());
        assertTrue(c.changed(new JSONObject().put("seq", 9).put("removed",
                new JSONObject().put("user", 0).put("package", "a").put("category", "camera").put("version", 3))));
        assertEquals(1, c.grants().size());
        // A gap: the caller must resubscribe; nothing is applied.
        assertFalse(c.changed(new JSONObject().put("seq", 11).put("set", grant("d", 1))));
        assertEquals(9, c.seq());
        assertEquals(1, c.grants().size());
    }

    @Test
    public void durations() {
        assertEquals(2 * 3_600_000L, Planner.durationMs("2h"));
        assertEquals(24 * 3_600_000L, Planner.durationMs("24h0m0s"));
        assertEquals(90 * 60_000L, Planner.durationMs("1h30m"));
        for (String bad : new String[] {"h", "10", "5d"}) {
            try {
                Planner.durationMs(bad);
                fail("duration " + bad + " accepted");
            } catch (IllegalArgumentException expected) {
                assertTrue(expected.getMessage(), expected.getMessage().contains(bad));
            }
        }
    }
}
