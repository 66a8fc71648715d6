package org.permd.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.json.JSONObject;
import org.junit.Test;

/**
 * PolicyCacheTest feeds the cache policy.subscribe replies and
 * policy.changed notifications as permd sends them (docs/protocol.md).
 */
public class PolicyCacheTest {
    static final String CATS = "\"categories\":[{\"id\":\"camera\",\"levels\":[{\"id\":\"full\",\"effect\":\"full\"}]}]";

    static JSONObject grant(String pkg, long version, String level) throws Exception {
        return new JSONObject("{\"user\":0,\"package\":\"" + pkg + "\",\"category\":\"camera\",\"decision\":\"allow\","
                + "\"time\":{\"mode\":\"while_in_use\"},\"precision\":{\"level\":\"" + level + "\"},"
                + "\"set\":\"2026-03-01T00:00:00Z\",\"version\":" + version + "}");
    }

    @Test
    public void changesBeforeTheReplyApplyAfterItAndStaleRemovalsAreIgnored() throws Exception {
        AtomicInteger gaps = new AtomicInteger();
        PolicyCache c = new PolicyCache(gaps::incrementAndGet);
        Link l = null; // the cache only compares links
        c.begin(l);
        // A change may arrive before the subscribe reply.
        c.changed(l, new JSONObject().put("seq", 6).put("set", grant("com.a.b", 2, "full")));
        assertFalse(c.ready());
        c.snapshot(l, new JSONObject("{\"seq\":5,\"time_zone\":\"Asia/Shanghai\"," + CATS + ",\"grants\":[]}"));
        assertTrue(c.ready());
        assertEquals(6, c.view().seq);
        assertEquals(2, c.view().grants.get(PolicyCache.key(0, "com.a.b", "camera")).version);
        // A removal of an older version than the one held changes nothing.
        c.changed(l, new JSONObject("{\"seq\":7,\"removed\":{\"user\":0,\"package\":\"com.a.b\",\"category\":\"camera\",\"version\":1,\"action\":\"expire\"}}"));
        assertEquals(7, c.view().seq);
        assertTrue(c.view().grants.containsKey(PolicyCache.key(0, "com.a.b", "camera")));
        c.changed(l, new JSONObject("{\"seq\":8,\"removed\":{\"user\":0,\"package\":\"com.a.b\",\"category\":\"camera\",\"version\":2,\"action\":\"revoke\"}}"));
        assertFalse(c.view().grants.containsKey(PolicyCache.key(0, "com.a.b", "camera")));
        // A replayed (older) seq is ignored; a gap drops the view.
        c.changed(l, new JSONObject().put("seq", 8).put("set", grant("com.x.y", 1, "full")));
        assertFalse(c.view().grants.containsKey(PolicyCache.key(0, "com.x.y", "camera")));
        assertEquals(0, gaps.get());
        c.changed(l, new JSONObject().put("seq", 10).put("set", grant("com.x.y", 1, "full")));
        assertFalse("cache still answers after a gap", c.ready());
        assertEquals(1, gaps.get());
    }

    @Test
    public void grantsAndZonesItCannotReadGoToPermd() throws Exception {
        PolicyCache c = new PolicyCache(() -> { });
        c.begin(null);
        c.snapshot(null, new JSONObject("{\"seq\":1,\"time_zone\":\"Mars/Olympus_Mons\"," + CATS + ",\"grants\":["
                + grant("com.a.b", 1, "no_such_level") + "]}"));
        assertNull("unknown zone resolved", c.view().zone);
        Evaluator.Compiled g = c.view().grants.get(PolicyCache.key(0, "com.a.b", "camera"));
        assertTrue("an unreadable grant is answered in process", Evaluator.needsDaemon(g));
    }
}
