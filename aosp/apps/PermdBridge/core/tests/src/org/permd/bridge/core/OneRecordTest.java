package org.permd.bridge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.permd.client.PermdClient;
import org.permd.client.jdk.UnixSocketTransport;

/**
 * OneRecordTest: with the at-access hook (frameworks/base 0001) and the
 * bridge both running, every access is recorded exactly once: the hook
 * records what it decides under a permd grant (allowed or refused), the
 * bridge's noted-op feed records the rest with Android's result.
 */
public class OneRecordTest {
    private static final String OP = "android:read_contacts";
    private static final int GRANTED = 10245;
    private static final int PLAIN = 10246;
    private static final int DENIED = 10247;

    private PermdClient hookClient;
    private PermdClient bridgeClient;
    private AtAccess hook;
    private Bridge bridge;

    @Before
    public void setUp() throws Exception {
        Path sock = Path.of(System.getProperty("permd.socket"));
        // system_server's client (the hook's) and the bridge's, as on a device.
        hookClient = new PermdClient.Builder(new UnixSocketTransport(sock)).decisionCache(true).build();
        bridgeClient = new PermdClient.Builder(new UnixSocketTransport(sock)).decisionCache(true).build();
        hook = new AtAccess(hookClient, Catalogue.load(new ClientCalls(hookClient)));
        FakeAndroid android = new FakeAndroid();
        bridge = new Bridge(new ClientCalls(bridgeClient), android, android, System::currentTimeMillis);
        bridgeClient.addPolicyListener(new ClientPolicy(bridge.policy(), () -> { }, () -> { }));
        bridge.atAccessHookInstalled(true);
    }

    @After
    public void tearDown() {
        hookClient.close();
        bridgeClient.close();
    }

    private void waitFor(String what, java.util.function.BooleanSupplier c) throws Exception {
        for (int i = 0; i < 500 && !c.getAsBoolean(); i++) {
            Thread.sleep(10);
        }
        assertTrue("waiting for " + what, c.getAsBoolean());
    }

    private List<String> rows(int uid) throws Exception {
        JSONArray ev = ((JSONObject) bridgeClient.call("ledger.query", new JSONObject().put("uid", uid).put("kind", "access")
                .put("limit", 100))).getJSONArray("events");
        List<String> out = new ArrayList<>();
        for (int i = ev.length() - 1; i >= 0; i--) {
            JSONObject e = ev.getJSONObject(i);
            JSONObject d = e.optJSONObject("detail");
            out.add(e.getString("result") + " x" + e.getInt("count") + " " + (d == null ? "" : d.optString("reason")));
        }
        return out;
    }

    @Test
    public void everyAccessIsRecordedOnce() throws Exception {
        bridgeClient.call("grants.set", new JSONObject("{\"uid\":" + GRANTED + ",\"package\":\"com.example.granted\","
                + "\"category\":\"contacts\",\"time\":{\"mode\":\"always\"},\"precision\":{\"level\":\"all\"}}"));
        bridgeClient.call("grants.set", new JSONObject("{\"uid\":" + DENIED + ",\"package\":\"com.example.refused\","
                + "\"category\":\"contacts\",\"decision\":\"deny\"}"));
        waitFor("both caches to hold the grants", () -> hookClient.hasGrant(GRANTED, "com.example.granted", "contacts") == 1
                && hookClient.hasGrant(DENIED, "com.example.refused", "contacts") == 1
                && bridge.policy().has(0, "com.example.granted", "contacts"));
        assertEquals(0, hookClient.hasGrant(PLAIN, "com.example.plain", "contacts"));

        // Under a permd grant: the hook allows and records; AppOps then notes it.
        assertEquals(AppOpsSurface.MODE_ALLOWED, hook.mode(OP, GRANTED, "com.example.granted", "foreground"));
        bridge.feeder().noted(OP, GRANTED, "com.example.granted", null, OpFeeder.OP_FLAG_SELF, AppOpsSurface.MODE_ALLOWED);
        // No permd grant: the hook leaves it to Android and records nothing.
        assertEquals(AppOpsSurface.MODE_DEFAULT, hook.mode(OP, PLAIN, "com.example.plain", "foreground"));
        bridge.feeder().noted(OP, PLAIN, "com.example.plain", null, OpFeeder.OP_FLAG_SELF, AppOpsSurface.MODE_ALLOWED);
        // Refused by the hook: AppOps never sees it, so nothing is noted.
        assertEquals(AppOpsSurface.MODE_IGNORED, hook.mode(OP, DENIED, "com.example.refused", "foreground"));

        bridge.feeder().flush();
        waitFor("the hook's records to be sent", () -> hookClient.pendingReports() == 0);
        List<String> granted = List.of();
        List<String> denied = List.of();
        for (int i = 0; i < 200; i++) {
            granted = rows(GRANTED);
            denied = rows(DENIED);
            if (!granted.isEmpty() && !denied.isEmpty()) {
                break;
            }
            Thread.sleep(10);
        }
        assertEquals("granted: the hook's record only", List.of("allowed x1 granted"), granted);
        assertEquals("no grant: the bridge's record only, Android's result", List.of("allowed x1 "), rows(PLAIN));
        assertEquals("refused by the hook", List.of("denied x1 user_denied"), denied);
    }
}
