package org.permd.bridge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
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
 * FrameworkRecordsTest: what the clipboard and package-manager patches
 * report lands in permd's ledger as exactly the rows the recording rules
 * describe; system uids are not recorded; only listing queries count as
 * app-list reads.
 */
public class FrameworkRecordsTest {
    private PermdClient client;

    @Before
    public void setUp() {
        client = new PermdClient.Builder(new UnixSocketTransport(Path.of(System.getProperty("permd.socket")))).build();
    }

    @After
    public void tearDown() {
        client.close();
    }

    private List<String> rows(int uid, String kind) throws Exception {
        JSONArray ev = ((JSONObject) client.call("ledger.query", new JSONObject().put("uid", uid).put("kind", kind)
                .put("limit", 100))).getJSONArray("events");
        List<String> out = new ArrayList<>();
        for (int i = ev.length() - 1; i >= 0; i--) {
            JSONObject e = ev.getJSONObject(i);
            out.add(e.getString("kind") + " " + e.getString("category") + " " + e.optString("result") + " x"
                    + e.getInt("count") + " " + e.optJSONObject("detail"));
        }
        return out;
    }

    private List<String> waitRows(int uid, String kind, int n) throws Exception {
        for (int i = 0; i < 200; i++) {
            List<String> r = rows(uid, kind);
            if (r.size() >= n && client.pendingReports() == 0) {
                return r;
            }
            Thread.sleep(20);
        }
        return rows(uid, kind);
    }

    @Test
    public void recordsLandAsTheRulesDescribe() throws Exception {
        FrameworkRecords r = new FrameworkRecords(client, System::currentTimeMillis);
        r.appListRead(10220, "getInstalledPackages");
        r.appListRead(10220, "queryIntentActivities");
        r.clipboardDenied(10220, "getPrimaryClip");
        r.appListRead(1000, "getInstalledPackages"); // system_server itself: not an app
        r.clipboardDenied(1010220, "getPrimaryClip"); // the same app in user 10
        assertEquals(List.of("app_list_read app_list allowed x1 {\"api\":\"getInstalledPackages\"}",
                "app_list_read app_list allowed x1 {\"api\":\"queryIntentActivities\"}"), waitRows(10220, "app_list_read", 2));
        assertEquals(List.of("clipboard_read clipboard denied x1 {\"api\":\"getPrimaryClip\"}"),
                waitRows(10220, "clipboard_read", 1));
        assertEquals(List.of("clipboard_read clipboard denied x1 {\"api\":\"getPrimaryClip\"}"),
                waitRows(1010220, "clipboard_read", 1));
        assertEquals(List.of(), rows(1000, "app_list_read"));
    }

    @Test
    public void onlyListingQueriesAreAppListReads() {
        assertTrue(FrameworkRecords.isListing("android.intent.action.MAIN", null, null));
        assertFalse("explicit package", FrameworkRecords.isListing("android.intent.action.MAIN", "com.example", null));
        assertFalse("explicit component", FrameworkRecords.isListing("android.intent.action.MAIN", null, "com.example/.A"));
        assertFalse("open a link", FrameworkRecords.isListing("android.intent.action.VIEW", null, null));
        assertFalse(FrameworkRecords.isListing(null, null, null));
    }
}
