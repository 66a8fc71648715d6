package org.permd.bridge.core;

import static org.junit.Assert.assertEquals;

import java.nio.file.Path;
import java.time.LocalTime;
import org.json.JSONObject;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.permd.client.PermdClient;
import org.permd.client.jdk.UnixSocketTransport;

/**
 * AtAccessTest runs the at-access hook's decision against a real permd
 * through the Java client's decision cache: what AppOpsPolicy would
 * return for each kind of grant.
 */
public class AtAccessTest {
    private PermdClient client;
    private AtAccess at;

    @Before
    public void setUp() throws Exception {
        client = new PermdClient.Builder(new UnixSocketTransport(Path.of(System.getProperty("permd.socket"))))
                .decisionCache(true).build();
        at = new AtAccess(client, Catalogue.load(new ClientCalls(client)));
    }

    @After
    public void tearDown() {
        client.close();
    }

    // set sets a grant and waits until the hook's decision cache holds it:
    // the hook decides only accesses under a grant it knows of.
    private void set(String json) throws Exception {
        JSONObject g = new JSONObject(json);
        client.call("grants.set", g);
        for (int i = 0; i < 500 && client.hasGrant(g.getInt("uid"), g.getString("package"), g.getString("category")) != 1; i++) {
            Thread.sleep(10);
        }
        assertEquals("the decision cache holds " + json, 1,
                client.hasGrant(g.getInt("uid"), g.getString("package"), g.getString("category")));
    }

    @Test
    public void grantsBecomeModes() throws Exception {
        // uid 10210..10214 are not in the host package map: any package is accepted.
        set("{\"uid\":10210,\"package\":\"com.example.always\",\"category\":\"contacts\",\"time\":{\"mode\":\"always\"},\"precision\":{\"level\":\"all\"}}");
        set("{\"uid\":10211,\"package\":\"com.example.deny\",\"category\":\"contacts\",\"decision\":\"deny\"}");
        set("{\"uid\":10212,\"package\":\"com.example.capped\",\"category\":\"contacts\",\"time\":{\"mode\":\"always\"},"
                + "\"frequency\":{\"max\":1,\"per\":\"day\"},\"precision\":{\"level\":\"all\"}}");
        // A one-minute window that does not contain now (permd's zone is the host's).
        LocalTime w = LocalTime.now().plusHours(2).withSecond(0).withNano(0);
        if (w.isAfter(LocalTime.of(23, 57))) {
            w = LocalTime.of(0, 10);
        }
        String window = String.format("%02d:%02d-%02d:%02d", w.getHour(), w.getMinute(), w.plusMinutes(1).getHour(),
                w.plusMinutes(1).getMinute());
        set("{\"uid\":10213,\"package\":\"com.example.window\",\"category\":\"contacts\",\"time\":{\"mode\":\"window\",\"window\":\""
                + window + "\",\"background\":true},\"precision\":{\"level\":\"all\"}}");

        assertEquals(AppOpsSurface.MODE_ALLOWED, at.mode("android:read_contacts", 10210, "com.example.always", "background"));
        assertEquals(AppOpsSurface.MODE_IGNORED, at.mode("android:read_contacts", 10211, "com.example.deny", "foreground"));
        assertEquals("first access of 1/day", AppOpsSurface.MODE_ALLOWED,
                at.mode("android:read_contacts", 10212, "com.example.capped", "foreground"));
        assertEquals("second access of 1/day", AppOpsSurface.MODE_IGNORED,
                at.mode("android:read_contacts", 10212, "com.example.capped", "foreground"));
        assertEquals("outside " + window, AppOpsSurface.MODE_IGNORED,
                at.mode("android:read_contacts", 10213, "com.example.window", "foreground"));
        assertEquals("no permd grant: Android decides", AppOpsSurface.MODE_DEFAULT,
                at.mode("android:read_contacts", 10214, "com.example.none", "foreground"));
        assertEquals("not one of the ten categories", AppOpsSurface.MODE_DEFAULT,
                at.mode("android:vibrate", 10210, "com.example.always", "foreground"));
    }

    @Test
    public void appStateComesFromTheImportanceListener() throws Exception {
        set("{\"uid\":10215,\"package\":\"com.example.inuse\",\"category\":\"contacts\",\"time\":{\"mode\":\"while_in_use\"},"
                + "\"precision\":{\"level\":\"all\"}}");
        at.importance(10215, 100); // IMPORTANCE_FOREGROUND
        assertEquals("while in use, app in the foreground", AppOpsSurface.MODE_ALLOWED,
                at.mode("android:read_contacts", 10215, "com.example.inuse"));
        at.importance(10215, 400); // IMPORTANCE_CACHED
        assertEquals("while in use, app in the background", AppOpsSurface.MODE_IGNORED,
                at.mode("android:read_contacts", 10215, "com.example.inuse"));
        at.importance(10215, 200); // IMPORTANCE_VISIBLE
        assertEquals("while in use, app visible", AppOpsSurface.MODE_ALLOWED,
                at.mode("android:read_contacts", 10215, "com.example.inuse"));
    }
}
