package org.permd.bridge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.permd.client.PermdClient;
import org.permd.client.Use;
import org.permd.client.jdk.UnixSocketTransport;

/**
 * PrivacyItemsTest: permd's indicator snapshots become exactly the items
 * SystemUI draws (running uses of the current user's apps; permd's hold
 * left to SystemUI), and merging with Android's app-op items hides
 * nothing and shows nothing twice.
 */
public class PrivacyItemsTest {
    private static final int SHOWN = 10244; // com.example.shown

    private PermdClient client;

    @Before
    public void setUp() {
        client = new PermdClient.Builder(new UnixSocketTransport(Path.of(System.getProperty("permd.socket")))).build();
    }

    @After
    public void tearDown() {
        client.close();
    }

    private static boolean userZero(int uid) {
        return uid / 100000 == 0;
    }

    private static JSONObject appIn(JSONObject snap, String resource, int uid) throws Exception {
        JSONArray rs = snap.getJSONArray("resources");
        for (int i = 0; i < rs.length(); i++) {
            JSONObject r = rs.getJSONObject(i);
            if (r.getString("resource").equals(resource)) {
                JSONArray apps = r.getJSONArray("apps");
                for (int j = 0; j < apps.length(); j++) {
                    if (apps.getJSONObject(j).getInt("uid") == uid) {
                        return apps.getJSONObject(j);
                    }
                }
            }
        }
        return null;
    }

    private static List<PrivacyItems.Item> only(List<PrivacyItems.Item> items, int uid) {
        return items.stream().filter(i -> i.uid == uid || i.uid % 100000 == uid % 100000).toList();
    }

    @Test
    public void runningUsesAreItemsAndPermdsHoldIsLeftToSystemUI() throws Exception {
        long wall0 = System.currentTimeMillis();
        Use cam = client.opStart("camera", SHOWN, "com.example.shown", 0, "android:camera");
        Use other = client.opStart("microphone", 1000000 + SHOWN, "com.example.shown", 0, "android:record_audio");
        long wall1 = System.currentTimeMillis();
        long elapsed = 5_000_000L; // SystemUI's elapsedRealtime now
        JSONObject snap = client.indicatorGet().json();
        List<PrivacyItems.Item> items = only(PrivacyItems.fromSnapshot(snap, PrivacyItemsTest::userZero, wall1, elapsed), SHOWN);
        assertEquals("items: " + items, 1, items.size());
        PrivacyItems.Item it = items.get(0);
        assertEquals("camera com.example.shown(" + SHOWN + ")", it.type + " " + it.packageName + "(" + it.uid + ")");
        assertTrue("start " + it.startedElapsedMs + " within the op.start call",
                it.startedElapsedMs >= elapsed - (wall1 - wall0) - 1 && it.startedElapsedMs <= elapsed);
        assertTrue("the other user's use is in permd's snapshot", appIn(snap, "microphone", 1000000 + SHOWN) != null);

        client.opFinish(cam);
        client.opFinish(other);
        JSONObject held = client.indicatorGet().json();
        JSONObject app = appIn(held, "camera", SHOWN);
        assertTrue("permd still holds the finished use: " + held, app != null && app.getInt("active") == 0);
        assertEquals("a held use is not an item: SystemUI holds it itself", List.of(),
                only(PrivacyItems.fromSnapshot(held, u -> true, System.currentTimeMillis(), elapsed), SHOWN));
    }

    @Test
    public void onlyResourcesSystemUIDrawsBecomeItems() throws Exception {
        JSONObject snap = new JSONObject("{\"seq\":3,\"resources\":["
                + "{\"resource\":\"contacts\",\"on\":true,\"apps\":[{\"uid\":10050,\"package\":\"com.a\",\"active\":1,\"since\":\"2026-03-02T10:00:00Z\"}]},"
                + "{\"resource\":\"location\",\"on\":true,\"apps\":[{\"uid\":10051,\"package\":\"com.b\",\"active\":2,\"since\":\"2026-03-02T10:00:01.5Z\"},"
                + "{\"uid\":10052,\"package\":\"com.c\",\"active\":1,\"since\":\"not a time\"}]}]}");
        long wall = java.time.Instant.parse("2026-03-02T10:00:03Z").toEpochMilli();
        assertEquals(List.of(new PrivacyItems.Item("location", "com.b", 10051, 98_500),
                new PrivacyItems.Item("location", "com.c", 10052, -1)),
                PrivacyItems.fromSnapshot(snap, u -> true, wall, 100_000));
    }

    @Test
    public void mergeHidesNothingAndShowsNothingTwice() {
        PrivacyItems.Item aCam = new PrivacyItems.Item("camera", "com.a", 10050, 1000);
        PrivacyItems.Item pCam = new PrivacyItems.Item("camera", "com.a", 10050, 900);
        PrivacyItems.Item aMic = new PrivacyItems.Item("microphone", "com.b", 10051, 2000);
        PrivacyItems.Item pLoc = new PrivacyItems.Item("location", "com.a", 10050, -1);
        PrivacyItems.Item aLoc = new PrivacyItems.Item("location", "com.a", 10050, 3000);
        assertEquals("Android's item kept where both have it", List.of(aCam, aMic, aLoc),
                PrivacyItems.merge(List.of(aCam, aMic, aLoc), List.of(pCam, pLoc)));
        assertEquals("permd's added where Android has none", List.of(aMic, pCam, pLoc),
                PrivacyItems.merge(List.of(aMic), List.of(pCam, pLoc)));
        assertEquals("permd down: Android's items", List.of(aCam, aMic), PrivacyItems.merge(List.of(aCam, aMic), List.of()));
        assertEquals("a use only permd knows", List.of(pLoc), PrivacyItems.merge(List.of(), List.of(pLoc)));
    }
}
