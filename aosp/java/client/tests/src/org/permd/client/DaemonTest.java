package org.permd.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * DaemonTest drives a real permd process through the Java client: typed
 * calls, the decision cache, SIGKILL and restart in the middle of a
 * subscription and a use, 64 concurrent threads with a slow listener.
 * The test process is root, so it has the root role (every method).
 */
public class DaemonTest {
    private Daemon daemon;
    private final List<AutoCloseable> closers = new ArrayList<>();

    @Before
    public void setUp() throws Exception {
        daemon = Daemon.start("daemon");
    }

    @After
    public void tearDown() throws Exception {
        Collections.reverse(closers);
        for (AutoCloseable c : closers) {
            c.close();
        }
        daemon.close();
    }

    private PermdClient client(PermdClient.Builder b) {
        PermdClient c = b.build();
        closers.add(c);
        return c;
    }

    static void waitFor(String what, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(10);
        }
    }

    static JSONObject grant(String pkg, String category, String time) throws Exception {
        return new JSONObject("{\"package\":\"" + pkg + "\",\"category\":\"" + category + "\",\"time\":" + time + "}");
    }

    private static int count(PermdClient c, JSONObject filters) throws Exception {
        JSONArray apps = c.ledgerSummary(filters).json().getJSONArray("apps");
        int n = 0;
        for (int i = 0; i < apps.length(); i++) {
            n += apps.getJSONObject(i).getInt("count");
        }
        return n;
    }

    @Test(timeout = 60_000)
    public void typedCallsReachTheRealDaemon() throws Exception {
        PermdClient c = client(daemon.client());
        assertEquals(1, c.sysVersion().json().getInt("protocol"));
        assertEquals("root", c.sysHealth(false).json().getJSONObject("you").getString("role"));
        Grant g = c.grantsSet(grant(Daemon.PKG_CAM, "camera", "{\"mode\":\"while_in_use\"}"));
        assertEquals("while_in_use", g.timeMode());
        assertEquals(1, c.grantsList(PermdClient.obj("package", Daemon.PKG_CAM)).size());

        CheckResult fg = c.permCheck(Daemon.UID_APP, Daemon.PKG_CAM, "camera", "android:camera", "foreground");
        assertTrue("foreground check denied: " + fg, fg.allowed());
        assertEquals("granted", fg.reason());
        CheckResult bg = c.permCheck(Daemon.UID_APP, Daemon.PKG_CAM, "camera", null, "background");
        assertEquals("background", bg.reason());
        try {
            c.permCheck(Daemon.UID_APP, Daemon.PKG_CAM, "telepathy", null, null);
            fail("unknown category accepted");
        } catch (PermdRpcException e) {
            assertEquals("category", e.field());
        }

        assertEquals(1, c.ledgerReport(List.of(PermdClient.obj("uid", Daemon.UID_APP, "kind", "self_start",
                "category", "process", "app_state", "not_running", "detail", PermdClient.obj("reason", "broadcast")))));
        waitFor("two access records", () -> {
            try {
                return count(c, PermdClient.obj("uid", Daemon.UID_APP, "kind", "access")) == 2;
            } catch (Exception e) {
                return false;
            }
        });
        assertEquals(1, count(c, PermdClient.obj("uid", Daemon.UID_APP, "kind", "self_start")));
        assertTrue(c.ledgerVerify().json().getBoolean("ok"));
        assertFalse(c.indicatorGet().on("camera"));
        assertEquals(1, c.grantsGet(0, Daemon.PKG_CAM, "camera").json().getJSONArray("history").length());
        c.grantsRevoke(0, Daemon.PKG_CAM, "camera");
        assertEquals("no_grant", c.permCheck(Daemon.UID_APP, Daemon.PKG_CAM, "camera", null, "foreground").reason());
    }

    @Test(timeout = 60_000)
    public void decisionCacheAnswersInProcessFollowsChangesAndRecords() throws Exception {
        PermdClient admin = client(daemon.client());
        PermdClient c = client(daemon.client().decisionCache(true));
        waitFor("cache snapshot", c::cacheReady);

        CheckResult none = c.check(Daemon.UID_APP, Daemon.PKG_CAM, "camera", "android:camera", "foreground");
        assertTrue("no-grant check not cached", none.cached());
        assertEquals("no_grant", none.reason());

        admin.grantsSet(grant(Daemon.PKG_CAM, "camera", "{\"mode\":\"while_in_use\"}"));
        waitFor("cached allow after grants.set", () -> {
            try {
                CheckResult r = c.check(Daemon.UID_APP, Daemon.PKG_CAM, "camera", null, "foreground");
                return r.cached() && r.allowed();
            } catch (PermdRpcException e) {
                return false;
            }
        });
        assertEquals("background", c.check(Daemon.UID_APP, Daemon.PKG_CAM, "camera", null, "background").reason());
        // Unknown app state: permd's own process tracking decides.
        assertFalse(c.check(Daemon.UID_APP, Daemon.PKG_CAM, "camera", null, null).cached());

        admin.grantsSet(grant("com.example.maps", "location", "{\"mode\":\"always\",\"background\":true}")
                .put("frequency", PermdClient.obj("max", 2, "per", "hour")));
        waitFor("capped grant in cache", () -> {
            try {
                return c.check(10124, "com.example.maps", "location", null, "background").allowed();
            } catch (PermdRpcException e) {
                return false;
            }
        });
        CheckResult second = c.check(10124, "com.example.maps", "location", null, "background");
        assertFalse("a capped grant was answered from the cache", second.cached());
        assertEquals(0, second.remaining());
        CheckResult third = c.check(10124, "com.example.maps", "location", null, "background");
        assertEquals("rate_limited", third.result());

        admin.grantsRevoke(0, Daemon.PKG_CAM, "camera");
        waitFor("cached deny after revoke", () -> {
            try {
                return "no_grant".equals(c.check(Daemon.UID_APP, Daemon.PKG_CAM, "camera", null, "foreground").reason());
            } catch (PermdRpcException e) {
                return false;
            }
        });
        // Every cached decision reaches the ledger as an access record.
        waitFor("cached checks recorded", () -> c.pendingReports() == 0);
        waitFor("access records of the cached checks", () -> {
            try {
                return count(admin, PermdClient.obj("uid", Daemon.UID_APP, "kind", "access", "category", "camera")) >= 4;
            } catch (Exception e) {
                return false;
            }
        });
    }

    @Test(timeout = 120_000)
    public void sigkillMidSubscriptionAndUseRecoversEverything() throws Exception {
        PermdClient admin = client(daemon.client());
        admin.grantsSet(grant(Daemon.PKG_CAM, "camera", "{\"mode\":\"while_in_use\"}"));
        List<IndicatorSnapshot> seen = new CopyOnWriteArrayList<>();
        PermdClient c = client(daemon.client().decisionCache(true).heartbeatMs(200));
        IndicatorSnapshot first = c.subscribeIndicator(seen::add);
        assertFalse(first.on("camera"));
        Use use = c.opStart("camera", Daemon.UID_APP, Daemon.PKG_CAM, 0, "android:camera");
        waitFor("camera on", () -> !seen.isEmpty() && seen.get(seen.size() - 1).on("camera"));
        waitFor("cache ready", c::cacheReady);
        long idBefore = use.id();
        long seqBefore = seen.get(seen.size() - 1).seq();

        List<JSONObject> acked = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            acked.add(PermdClient.obj("uid", Daemon.UID_APP, "kind", "clipboard_read", "category", "clipboard",
                    "time_ms", System.currentTimeMillis() - i * 120_000L));
        }
        assertEquals(5, c.ledgerReport(acked));

        daemon.kill();
        // While permd is down: checks fail closed (or come from the cache),
        // reports wait in the buffer.
        c.reportAsync(PermdClient.obj("uid", Daemon.UID_APP, "kind", "device_id_read", "category", "device_id"));
        daemon.launch();

        waitFor("use started again in the new run", () -> use.id() != idBefore);
        waitFor("camera shown again after restart", () -> {
            IndicatorSnapshot s = seen.get(seen.size() - 1);
            return s.seq() > seqBefore && s.on("camera");
        });
        waitFor("cache resubscribed", c::cacheReady);
        assertTrue("no reconnect counted", c.reconnects() >= 1);
        long prev = 0;
        for (IndicatorSnapshot s : seen) {
            assertTrue("seq went from " + prev + " to " + s.seq(), s.seq() > prev);
            prev = s.seq();
        }
        assertTrue(c.check(Daemon.UID_APP, Daemon.PKG_CAM, "camera", null, "foreground").allowed());
        assertEquals("clipboard records acknowledged before the kill", 5,
                count(admin, PermdClient.obj("uid", Daemon.UID_APP, "kind", "clipboard_read")));
        waitFor("buffered report delivered after restart", () -> {
            try {
                return count(admin, PermdClient.obj("uid", Daemon.UID_APP, "kind", "device_id_read")) == 1;
            } catch (Exception e) {
                return false;
            }
        });
        assertNotEquals(idBefore, use.id());
        c.opFinish(use);
        waitFor("camera off after finish and hold", () -> !seen.get(seen.size() - 1).on("camera"));
    }

    @Test(timeout = 120_000)
    public void reportsDroppedWhileDownAreCountedInAnOverloadRecord() throws Exception {
        PermdClient admin = client(daemon.client());
        PermdClient c = client(daemon.client().reportBuffer(2));
        c.sysVersion();
        daemon.kill();
        for (int i = 0; i < 5; i++) {
            c.reportAsync(PermdClient.obj("uid", Daemon.UID_APP, "kind", "app_list_read", "category", "app_list"));
        }
        assertEquals(2, c.pendingReports());
        assertEquals(3, c.droppedReports());
        daemon.launch();
        waitFor("buffered records and the overload record", () -> c.pendingReports() == 0 && c.droppedReports() == 0);
        assertEquals(2, count(admin, PermdClient.obj("uid", Daemon.UID_APP, "kind", "app_list_read")));
        JSONArray over = admin.ledgerQuery(PermdClient.obj("kind", "overload")).json().getJSONArray("events");
        assertEquals("overload rows: " + over, 1, over.length());
        JSONObject detail = over.getJSONObject(0).getJSONObject("detail");
        assertEquals(3, detail.getInt("dropped"));
        assertTrue(detail.getString("reason"), detail.getString("reason").contains("unreachable"));
    }

    @Test(timeout = 120_000)
    public void sixtyFourThreadsWithASlowListener() throws Exception {
        PermdClient admin = client(daemon.client());
        admin.grantsSet(grant(Daemon.PKG_CAM, "camera", "{\"mode\":\"while_in_use\"}"));
        ExecutorService slow = Executors.newSingleThreadExecutor();
        closers.add(slow::shutdownNow);
        List<IndicatorSnapshot> got = new CopyOnWriteArrayList<>();
        PermdClient c = client(daemon.client().notificationExecutor(slow));
        c.subscribeIndicator(s -> {
            got.add(s);
            try {
                Thread.sleep(300); // a listener far slower than the calls
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        ExecutorService pool = Executors.newFixedThreadPool(64);
        closers.add(pool::shutdownNow);
        List<Future<Integer>> fs = new ArrayList<>();
        for (int t = 0; t < 64; t++) {
            final int id = t;
            fs.add(pool.submit(() -> {
                int ok = 0;
                for (int i = 0; i < 30; i++) {
                    if (id % 8 == 0) {
                        Use u = c.opStart("camera", Daemon.UID_APP, Daemon.PKG_CAM, 0, null);
                        c.opFinish(u);
                        ok++;
                    } else if (id % 2 == 0) {
                        ok += c.permCheck(Daemon.UID_APP, Daemon.PKG_CAM, "camera", null, "foreground").allowed() ? 1 : 0;
                    } else {
                        ok += "ok".equals(c.sysHealth(false).json().getString("status")) ? 1 : 0;
                    }
                }
                return ok;
            }));
        }
        int total = 0;
        for (Future<Integer> f : fs) {
            total += f.get(60, TimeUnit.SECONDS); // a blocked call shows up here, not as a hang
        }
        assertEquals(64 * 30, total);
        assertTrue("listener got nothing", !got.isEmpty());
        // The listener is still far behind, yet calls went through; it sees
        // the latest state eventually, never a backlog.
        waitFor("listener catches up with the final state", () -> !got.get(got.size() - 1).on("camera")
                || got.get(got.size() - 1).json().toString().contains("held_until"));
        long prev = 0;
        for (IndicatorSnapshot s : got) {
            assertTrue("seq regression", s.seq() > prev);
            prev = s.seq();
        }
    }
}
