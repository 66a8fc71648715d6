package org.permd.bridge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.permd.client.PermdClient;
import org.permd.client.jdk.UnixSocketTransport;

/**
 * BridgeTest drives the bridge's logic the way the Android service does,
 * against a real permd (started by aosp/scripts/test-bridge-java.sh) and
 * a fake AppOpsManager/PackageManager, and checks what lands in permd
 * (ledger rows, spans, indicator state) and on the fake Android surface
 * (exact mode and grant changes). Each test uses its own uids, so tests
 * sharing the daemon never see each other's rows.
 */
public class BridgeTest {
    private PermdClient client;
    private PermdCalls admin;
    private FakeAndroid android;
    private final AtomicLong now = new AtomicLong(System.currentTimeMillis());
    private Bridge bridge;
    private final Object changes = new Object();

    @Before
    public void setUp() throws Exception {
        String socket = System.getProperty("permd.socket");
        if (socket == null) {
            fail("permd.socket not set: run aosp/scripts/test-bridge-java.sh");
        }
        UnixSocketTransport t = new UnixSocketTransport(Path.of(socket));
        // The bridge follows the policy through the client's own
        // subscription (decision cache on), as the Android glue does.
        client = new PermdClient.Builder(t).decisionCache(true).build();
        // The test runs as root: the same client also acts as Settings
        // (grants.set/revoke) and reads the ledger.
        admin = new ClientCalls(client);
        android = new FakeAndroid();
        bridge = new Bridge(new ClientCalls(client), android, android, now::get);
        client.addPolicyListener(new ClientPolicy(bridge.policy(), () -> {
            synchronized (changes) {
                changes.notifyAll();
            }
        }, () -> { }));
        waitUntil(() -> bridge.policy().seq() >= 0, "the policy snapshot");
    }

    @After
    public void tearDown() throws Exception {
        client.close();
    }

    private interface Cond {
        boolean holds() throws Exception;
    }

    /** waitUntil waits for the policy stream to deliver what cond needs (no timing is asserted). */
    private void waitUntil(Cond cond, String what) throws Exception {
        for (int i = 0; i < 100; i++) {
            synchronized (changes) {
                if (cond.holds()) {
                    return;
                }
                changes.wait(100);
            }
        }
        fail("the bridge never received " + what);
    }

    /** setGrant sets a grant as Settings would and waits until the bridge has it. */
    private JSONObject setGrant(JSONObject g) throws Exception {
        JSONObject got = admin.call("grants.set", g).getJSONObject("grant");
        String k = got.getString("package") + "/" + got.getString("category");
        waitUntil(() -> {
            for (JSONObject h : bridge.policy().grants()) {
                if ((h.getString("package") + "/" + h.getString("category")).equals(k)
                        && h.getInt("version") == got.getInt("version")) {
                    return true;
                }
            }
            return false;
        }, "grant " + got);
        return got;
    }

    /** revoke revokes a grant as Settings would and waits until the bridge no longer has it. */
    private void revoke(String pkg, String category) throws Exception {
        admin.call("grants.revoke", new JSONObject().put("package", pkg).put("category", category));
        waitUntil(() -> {
            for (JSONObject h : bridge.policy().grants()) {
                if (h.getString("package").equals(pkg) && h.getString("category").equals(category)) {
                    return false;
                }
            }
            return true;
        }, "the revocation of " + pkg + " " + category);
    }

    private List<JSONObject> rows(int uid, String kind) throws Exception {
        JSONArray ev = admin.call("ledger.query", new JSONObject().put("uid", uid).put("kind", kind).put("limit", 1000))
                .getJSONArray("events");
        List<JSONObject> out = new ArrayList<>();
        for (int i = ev.length() - 1; i >= 0; i--) {
            out.add(ev.getJSONObject(i)); // oldest first
        }
        return out;
    }

    private static String row(JSONObject e) throws Exception {
        JSONObject d = e.optJSONObject("detail");
        return e.getString("kind") + " " + e.getString("category") + " " + e.optString("op") + " "
                + e.optString("result") + " " + e.optString("app_state") + " x" + e.getInt("count")
                + (d == null ? "" : " " + d);
    }

    private JSONObject indicatorApp(String resource, int uid) throws Exception {
        JSONArray rs = admin.call("indicator.get", new JSONObject()).getJSONArray("resources");
        for (int i = 0; i < rs.length(); i++) {
            JSONObject r = rs.getJSONObject(i);
            if (!r.getString("resource").equals(resource)) {
                continue;
            }
            JSONArray apps = r.getJSONArray("apps");
            for (int j = 0; j < apps.length(); j++) {
                if (apps.getJSONObject(j).getInt("uid") == uid) {
                    return apps.getJSONObject(j);
                }
            }
        }
        return null;
    }

    @Test
    public void scriptedOpStreamGivesExactRowsSpansAndIndicators() throws Exception {
        OpFeeder f = bridge.feeder();
        f.importance(10201, 100); // foreground
        f.importance(10203, 400); // cached: background
        // Noted ops with the result Android gave.
        f.noted("android:fine_location", 10201, "com.example.maps", null, OpFeeder.OP_FLAG_SELF, AppOpsSurface.MODE_ALLOWED);
        f.noted("android:fine_location", 10201, "com.example.maps", null, OpFeeder.OP_FLAG_SELF, AppOpsSurface.MODE_ALLOWED);
        f.noted("android:read_contacts", 10203, "com.example.notes", "sync", OpFeeder.OP_FLAG_SELF, AppOpsSurface.MODE_IGNORED);
        f.noted(Catalogue.OP_READ_CLIPBOARD, 10203, "com.example.notes", null, OpFeeder.OP_FLAG_SELF, AppOpsSurface.MODE_ALLOWED);
        f.noted(Catalogue.OP_READ_DEVICE_IDENTIFIERS, 10203, "com.example.notes", null, OpFeeder.OP_FLAG_SELF, AppOpsSurface.MODE_ERRORED);
        // The proxy's own half of a proxied note is not the app's access.
        f.noted("android:read_contacts", 10203, "com.example.notes", null, OpFeeder.OP_FLAG_TRUSTED_PROXY, AppOpsSurface.MODE_ALLOWED);
        // An op permd has no category for is not recorded.
        f.noted("android:vibrate", 10203, "com.example.notes", null, OpFeeder.OP_FLAG_SELF, AppOpsSurface.MODE_ALLOWED);
        assertEquals(5, f.queued());
        assertEquals(5, f.flush());
        assertEquals(0, f.queued());

        assertEquals(List.of("access location android:fine_location allowed foreground x2"),
                rowsOf(10201, "access"));
        assertEquals(List.of("access contacts android:read_contacts denied background x1 "
                + "{\"attribution_tag\":\"sync\",\"reason\":\"android:ignored\"}"), rowsOf(10203, "access"));
        assertEquals(List.of("clipboard_read clipboard android:read_clipboard allowed background x1 {\"api\":\"appops\"}"),
                rowsOf(10203, "clipboard_read"));
        assertEquals(List.of("device_id_read device_id android:read_device_identifiers denied background x1 {\"api\":\"appops\"}"),
                rowsOf(10203, "device_id_read"));

        // An active op: shown while running, held after, a span when it ends.
        f.activeChanged("android:camera", 10202, "com.example.cam", null, true);
        JSONObject app = indicatorApp("camera", 10202);
        assertTrue("camera not shown for 10202 while in use", app != null && app.getInt("active") == 1);
        f.activeChanged("android:camera", 10202, "com.example.cam", null, false);
        app = indicatorApp("camera", 10202);
        assertTrue("camera not held for 10202 after the use ended", app != null && app.getInt("active") == 0);
        List<JSONObject> spans = waitRows(10202, "span", 1);
        assertEquals("camera", spans.get(0).getString("category"));
        assertEquals("finish", spans.get(0).getJSONObject("detail").getString("reason"));

        // A use still running when the app's uid goes away ends as a death.
        f.activeChanged("android:record_audio", 10202, "com.example.cam", null, true);
        assertEquals(1, f.activeUses());
        assertEquals("heartbeat renews the running use", 1, f.heartbeat());
        f.importance(10202, 1000);
        assertEquals(0, f.activeUses());
        spans = waitRows(10202, "span", 2);
        assertEquals("microphone", spans.get(1).getString("category"));
        assertEquals("death", spans.get(1).getJSONObject("detail").getString("reason"));
        app = indicatorApp("microphone", 10202);
        assertTrue("microphone use did not end with the uid", app == null || app.getInt("active") == 0);
        // A stop for a use the bridge never saw start adds nothing.
        f.activeChanged("android:camera", 10202, "com.example.cam", "late", false);
        assertEquals(2, rows(10202, "span").size());
    }

    private List<String> rowsOf(int uid, String kind) throws Exception {
        List<String> out = new ArrayList<>();
        for (JSONObject e : rows(uid, kind)) {
            out.add(row(e));
        }
        return out;
    }

    /** waitRows waits for rows written asynchronously by permd (spans at finish); no timing is asserted. */
    private List<JSONObject> waitRows(int uid, String kind, int n) throws Exception {
        for (int i = 0; i < 400; i++) {
            List<JSONObject> r = rows(uid, kind);
            if (r.size() >= n) {
                assertEquals("rows of kind " + kind + " for " + uid, n, r.size());
                return r;
            }
            Thread.sleep(25);
        }
        fail("expected " + n + " " + kind + " row(s) for uid " + uid + ", got " + rows(uid, kind).size());
        return null;
    }

    private long at(ZoneId zone, int h, int m) {
        return LocalDate.now(zone).atTime(LocalTime.of(h, m)).atZone(zone).toInstant().toEpochMilli();
    }

    /** yesterday is a time of the day before: records sent then are in the past, as permd requires. */
    private long yesterday(ZoneId zone, int h, int m) {
        return LocalDate.now(zone).minusDays(1).atTime(LocalTime.of(h, m)).atZone(zone).toInstant().toEpochMilli();
    }

    @Test
    public void timeWindowEdgesSwitchModesOnly() throws Exception {
        android.install("com.example.window", 10204, "android.permission.ACCESS_FINE_LOCATION",
                "android.permission.ACCESS_COARSE_LOCATION");
        setGrant(new JSONObject("{\"uid\":10204,\"package\":\"com.example.window\",\"category\":\"location\","
                + "\"time\":{\"mode\":\"window\",\"window\":\"09:00-18:00\"},\"precision\":{\"level\":\"exact\"}}"));
        ZoneId zone = bridge.policy().zone();
        now.set(at(zone, 17, 59));
        Plan p = bridge.reapply();
        assertEquals(List.of("grant com.example.window ACCESS_COARSE_LOCATION", "grant com.example.window ACCESS_FINE_LOCATION",
                "mode android:coarse_location 10204 4", "mode android:fine_location 10204 4",
                "mode android:monitor_high_power_location 10204 4", "mode android:monitor_location 10204 4"), android.take());
        assertEquals(at(zone, 18, 0), p.nextMs);
        // The alarm fires at the window's end: ops ignored, grants kept.
        now.set(p.nextMs);
        p = bridge.reapply();
        assertEquals(List.of("mode android:coarse_location 10204 1", "mode android:fine_location 10204 1",
                "mode android:monitor_high_power_location 10204 1", "mode android:monitor_location 10204 1"), android.take());
        assertEquals(at(zone, 9, 0) + 24 * 3600_000L, p.nextMs);
        // Nothing changed: applying again changes nothing.
        bridge.reapply();
        assertEquals(List.of(), android.take());
        // Revoked in permd (as an expiry ends it): modes back to Android's
        // default, permissions revoked without USER_FIXED.
        revoke("com.example.window", "location");
        bridge.reapply();
        assertEquals(List.of("mode android:coarse_location 10204 3", "mode android:fine_location 10204 3",
                "mode android:monitor_high_power_location 10204 3", "mode android:monitor_location 10204 3",
                "revoke com.example.window ACCESS_COARSE_LOCATION", "revoke com.example.window ACCESS_FINE_LOCATION"),
                android.take());
        assertTrue(android.userFixed.isEmpty());
    }

    @Test
    public void durationExpiryIgnoresOpsAtItsEnd() throws Exception {
        android.install("com.example.maps", 10201, "android.permission.ACCESS_COARSE_LOCATION");
        JSONObject g = setGrant(new JSONObject("{\"uid\":10201,\"package\":\"com.example.maps\",\"category\":\"location\","
                + "\"time\":{\"mode\":\"duration\",\"for\":\"2h\"},\"precision\":{\"level\":\"approx_3km\"}}"));
        long set = java.time.Instant.parse(g.getString("set")).toEpochMilli();
        now.set(set + 2 * 3600_000L - 1);
        Plan p = bridge.reapply();
        // Approximate precision: fine ignored, coarse while in use.
        assertEquals(List.of("grant com.example.maps ACCESS_COARSE_LOCATION", "mode android:coarse_location 10201 4",
                "mode android:fine_location 10201 1", "mode android:monitor_high_power_location 10201 4",
                "mode android:monitor_location 10201 4"), android.take());
        assertEquals(set + 2 * 3600_000L, p.nextMs);
        now.set(p.nextMs);
        p = bridge.reapply();
        assertEquals(List.of("mode android:coarse_location 10201 1", "mode android:monitor_high_power_location 10201 1",
                "mode android:monitor_location 10201 1"), android.take());
        assertEquals("expired", p.why.get(Plan.modeKey("android:coarse_location", 10201)));
        revoke("com.example.maps", "location");
    }

    @Test
    public void frequencyCapIgnoresUntilTheWindowEnds() throws Exception {
        android.install("com.example.capped", 10205, "android.permission.READ_CONTACTS");
        setGrant(new JSONObject("{\"uid\":10205,\"package\":\"com.example.capped\",\"category\":\"contacts\","
                + "\"time\":{\"mode\":\"always\"},\"frequency\":{\"max\":3,\"per\":\"hour\"},\"precision\":{\"level\":\"all\"}}"));
        ZoneId zone = bridge.policy().zone();
        now.set(yesterday(zone, 10, 10));
        bridge.reapply();
        assertEquals(List.of("grant com.example.capped READ_CONTACTS", "mode android:get_accounts 10205 0",
                "mode android:read_contacts 10205 0", "mode android:write_contacts 10205 0"), android.take());
        OpFeeder f = bridge.feeder();
        for (int i = 0; i < 3; i++) {
            assertFalse("cap reported reached after " + i + " accesses", bridge.replanWanted());
            f.noted("android:read_contacts", 10205, "com.example.capped", null, OpFeeder.OP_FLAG_SELF, AppOpsSurface.MODE_ALLOWED);
        }
        assertTrue("third access of 3/hour did not ask for a replan", bridge.replanWanted());
        Plan p = bridge.reapply();
        assertEquals(List.of("mode android:get_accounts 10205 1", "mode android:read_contacts 10205 1",
                "mode android:write_contacts 10205 1"), android.take());
        assertEquals(yesterday(zone, 11, 0), p.nextMs);
        // A refused access (already ignored) does not count.
        f.noted("android:read_contacts", 10205, "com.example.capped", null, OpFeeder.OP_FLAG_SELF, AppOpsSurface.MODE_IGNORED);
        now.set(p.nextMs);
        bridge.reapply();
        assertEquals(List.of("mode android:get_accounts 10205 0", "mode android:read_contacts 10205 0",
                "mode android:write_contacts 10205 0"), android.take());
        assertEquals(4, f.flush());
        assertEquals(List.of("access contacts android:read_contacts allowed  x3",
                "access contacts android:read_contacts denied  x1 {\"reason\":\"android:ignored\"}"), rowsOf(10205, "access"));
    }

    @Test
    public void permissionPolicyResyncIsUndone() throws Exception {
        android.install("com.example.synced", 10208, "android.permission.CAMERA");
        setGrant(new JSONObject("{\"uid\":10208,\"package\":\"com.example.synced\",\"category\":\"camera\","
                + "\"time\":{\"mode\":\"while_in_use\"}}"));
        bridge.reapply();
        assertEquals(List.of("grant com.example.synced CAMERA", "mode android:camera 10208 4",
                "mode android:phone_call_camera 10208 4"), android.take());
        // PermissionToOpSynchroniser sets the op from the permission state.
        android.sync("android:camera", 10208, AppOpsSurface.MODE_ALLOWED);
        bridge.reapply(); // on the permission-change callback
        assertEquals(List.of("mode android:camera 10208 4"), android.take());
        assertEquals(AppOpsSurface.MODE_FOREGROUND, android.uidMode("android:camera", 10208));
    }

    @Test
    public void denyRevokesWithUserFixed() throws Exception {
        android.install("com.example.denied", 10209, "android.permission.RECORD_AUDIO");
        android.granted.add("com.example.denied android.permission.RECORD_AUDIO");
        setGrant(new JSONObject("{\"uid\":10209,\"package\":\"com.example.denied\",\"category\":\"microphone\",\"decision\":\"deny\"}"));
        bridge.reapply();
        assertEquals(List.of("mode android:phone_call_microphone 10209 1", "mode android:receive_ambient_trigger_audio 10209 1",
                "mode android:record_audio 10209 1", "revoke+fixed com.example.denied RECORD_AUDIO"), android.take());
        assertTrue(android.userFixed.contains("com.example.denied android.permission.RECORD_AUDIO"));
        bridge.reapply();
        assertEquals(List.of(), android.take());
    }

    @Test
    public void uninstallRemovesGrants() throws Exception {
        android.install("com.example.gone", 10206, "android.permission.CAMERA");
        setGrant(new JSONObject("{\"uid\":10206,\"package\":\"com.example.gone\",\"category\":\"camera\","
                + "\"time\":{\"mode\":\"while_in_use\"}}"));
        bridge.reapply();
        assertEquals(List.of("grant com.example.gone CAMERA", "mode android:camera 10206 4",
                "mode android:phone_call_camera 10206 4"), android.take());
        bridge.feeder().activeChanged("android:camera", 10206, "com.example.gone", null, true);
        // Uninstall: the package manager drops its state; the uid is gone.
        android.uninstall("com.example.gone");
        bridge.feeder().importance(10206, 1000);
        assertEquals(0, bridge.feeder().activeUses());
        bridge.reapply();
        assertEquals("nothing may be granted to an uninstalled package", List.of(), android.take());
        // Reinstalled under a new uid: the old install's grant does not come back.
        android.install("com.example.gone", 10207, "android.permission.CAMERA");
        bridge.reapply();
        assertEquals(List.of(), android.take());
        assertFalse(android.isGranted("com.example.gone", "android.permission.CAMERA", 0));
        assertEquals(AppOpsSurface.MODE_DEFAULT, android.uidMode("android:camera", 10207));
    }

    @Test
    public void androidRevokeEndsThePermdGrant() throws Exception {
        android.install("com.example.contacts", 10216, "android.permission.READ_CONTACTS", "android.permission.WRITE_CONTACTS");
        setGrant(new JSONObject("{\"uid\":10216,\"package\":\"com.example.contacts\",\"category\":\"contacts\","
                + "\"time\":{\"mode\":\"always\"},\"precision\":{\"level\":\"all\"}}"));
        bridge.reapply();
        assertTrue(android.isGranted("com.example.contacts", "android.permission.READ_CONTACTS", 0));
        android.take();
        // The user revokes the permissions in Android's Settings.
        android.granted.remove("com.example.contacts android.permission.READ_CONTACTS");
        android.granted.remove("com.example.contacts android.permission.WRITE_CONTACTS");
        bridge.reapply();
        JSONObject got = admin.call("grants.get", new JSONObject().put("package", "com.example.contacts").put("category", "contacts"));
        assertTrue("permd still holds the grant Android revoked: " + got, got.isNull("grant"));
        JSONArray hist = got.getJSONArray("history");
        assertEquals("revoke", hist.getJSONObject(hist.length() - 1).getString("action"));
        assertEquals("android", hist.getJSONObject(hist.length() - 1).getString("by"));
        assertFalse("the bridge granted back what Android revoked",
                android.isGranted("com.example.contacts", "android.permission.READ_CONTACTS", 0));
        assertEquals("modes return to Android's own", List.of("mode android:read_contacts 10216 3",
                "mode android:write_contacts 10216 3"), android.take().stream().filter(l -> l.contains("contacts 10216")).toList());
    }

    @Test
    public void androidNarrowingIsNotARevoke() throws Exception {
        android.install("com.example.nav", 10217, "android.permission.ACCESS_FINE_LOCATION",
                "android.permission.ACCESS_COARSE_LOCATION", "android.permission.ACCESS_BACKGROUND_LOCATION");
        setGrant(new JSONObject("{\"uid\":10217,\"package\":\"com.example.nav\",\"category\":\"location\","
                + "\"time\":{\"mode\":\"always\",\"background\":true},\"precision\":{\"level\":\"exact\"}}"));
        bridge.reapply();
        assertTrue(android.isGranted("com.example.nav", "android.permission.ACCESS_BACKGROUND_LOCATION", 0));
        android.take();
        // "Allow only while using the app" and "approximate" in Settings:
        // narrower, but location is still granted.
        android.granted.remove("com.example.nav android.permission.ACCESS_BACKGROUND_LOCATION");
        android.granted.remove("com.example.nav android.permission.ACCESS_FINE_LOCATION");
        bridge.reapply();
        JSONObject got = admin.call("grants.get", new JSONObject().put("package", "com.example.nav").put("category", "location"));
        assertFalse("a narrowing in Android ended permd's grant", got.isNull("grant"));
        // permd's grant decides what Android holds: the bridge grants back.
        assertEquals(List.of("grant com.example.nav ACCESS_BACKGROUND_LOCATION", "grant com.example.nav ACCESS_FINE_LOCATION"),
                android.take());
    }
}
