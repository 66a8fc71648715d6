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
 * ProcStartsTest: what the ActivityManager patch reports becomes permd's
 * start records as docs/process-tracking.md classifies them (another app
 * calling: associated_start with the caller; the system calling:
 * self_start); non-app starts are not reported; a report that cannot be
 * queued is counted and recorded as lost. Activity starts by the home app
 * or recents are the user's; service restarts name no caller.
 */
public class ProcStartsTest {
    private static final int CALLEE = 10240; // com.example.callee
    private static final int CALLER = 10241; // com.example.caller
    private static final int WOKEN = 10242; // com.example.woken
    private static final int FLOOD = 10243; // com.example.flood
    private static final int SHARED_TO = 10251; // com.example.sharedto
    private static final int TAPPED = 10252; // com.example.tapped
    private static final int RESUMED = 10253; // com.example.resumed
    private static final int BOUND = 10254; // com.example.bound
    private static final int JOBBED = 10255; // com.example.jobbed
    private static final int RESTARTED = 10256; // com.example.restarted

    private PermdClient client;
    private ProcStarts starts;

    @Before
    public void setUp() {
        client = new PermdClient.Builder(new UnixSocketTransport(Path.of(System.getProperty("permd.socket")))).build();
    }

    @After
    public void tearDown() {
        if (starts != null) {
            starts.close();
        }
        client.close();
    }

    private List<JSONObject> rows(JSONObject filter) throws Exception {
        JSONArray ev = ((JSONObject) client.call("ledger.query", filter.put("limit", 1000))).getJSONArray("events");
        List<JSONObject> out = new ArrayList<>();
        for (int i = ev.length() - 1; i >= 0; i--) {
            out.add(ev.getJSONObject(i));
        }
        return out;
    }

    // Starts are written after permd's settle window (2 s in the test config).
    private List<JSONObject> waitRows(JSONObject filter, int n) throws Exception {
        for (int i = 0; i < 500; i++) {
            List<JSONObject> r = rows(new JSONObject(filter.toString()));
            if (r.size() >= n) {
                return r;
            }
            Thread.sleep(20);
        }
        return rows(filter);
    }

    @Test
    public void anotherAppsProviderStartIsAssociatedWithTheCaller() throws Exception {
        starts = new ProcStarts(client, System::currentTimeMillis, ProcStarts.QUEUE);
        assertTrue(starts.started(CALLEE, 0, "com.example.callee:sync", "content provider",
                "com.example.callee/.SyncProvider", CALLER, "com.example.caller"));
        assertTrue(starts.started(WOKEN, 0, "com.example.woken", "broadcast",
                "com.example.woken/.BootReceiver", 1000, "android"));
        assertTrue(starts.started(1000, 0, "system", "content provider", "android/.P", CALLER, "com.example.caller"));
        List<JSONObject> a = waitRows(new JSONObject().put("uid", CALLEE).put("category", "process"), 1);
        assertEquals("rows for the callee: " + a, 1, a.size());
        assertEquals("associated_start", a.get(0).getString("kind"));
        JSONObject d = a.get(0).getJSONObject("detail");
        assertEquals("provider", d.getString("reason"));
        assertEquals("com.example.callee/.SyncProvider", d.getString("component"));
        assertEquals("com.example.callee:sync", d.getString("process"));
        assertEquals("com.example.caller", d.getString("caller"));
        assertEquals(CALLER, d.getInt("caller_uid"));
        assertEquals("not_running", a.get(0).getString("app_state"));

        List<JSONObject> w = waitRows(new JSONObject().put("uid", WOKEN).put("category", "process"), 1);
        assertEquals("rows for the woken app: " + w, 1, w.size());
        assertEquals("a system caller does not make a start associated", "self_start", w.get(0).getString("kind"));
        assertEquals("broadcast", w.get(0).getJSONObject("detail").getString("reason"));

        assertEquals(List.of(), rows(new JSONObject().put("uid", 1000).put("category", "process")));
        assertEquals(0, starts.lost());
    }

    @Test
    public void reportsThatCannotBeQueuedAreRecordedAsLost() throws Exception {
        starts = new ProcStarts(client, System::currentTimeMillis, 1);
        int refused = 0;
        int n = 50;
        for (int i = 0; i < n; i++) {
            if (!starts.started(FLOOD, 0, "com.example.flood", "service", null, CALLER, "com.example.caller")) {
                refused++;
            }
        }
        // The sender holds at most one report in flight and one queued;
        // the rest of a burst made while it talks to permd is refused.
        assertTrue("refused " + refused + " of " + n, refused > 0);
        // One more after the burst carries the count to permd.
        for (int i = 0; i < 500 && (starts.pending() > 0); i++) {
            Thread.sleep(10);
        }
        assertTrue(starts.started(FLOOD, 0, "com.example.flood", "service", null, CALLER, "com.example.caller"));
        long dropped = 0;
        for (int i = 0; i < 500; i++) {
            dropped = 0;
            for (JSONObject o : rows(new JSONObject().put("kind", "overload"))) {
                JSONObject d = o.getJSONObject("detail");
                if (d.getString("reason").startsWith("proc.report:")) {
                    dropped += d.getLong("dropped");
                }
            }
            if (dropped >= refused) {
                break;
            }
            Thread.sleep(20);
        }
        assertEquals("lost reports recorded", refused, dropped);
        assertEquals(0, starts.lost());
        // Identical starts share a ledger row and its count.
        int recorded = 0;
        for (int i = 0; i < 500 && recorded < n - refused + 1; i++) {
            recorded = 0;
            for (JSONObject o : rows(new JSONObject().put("uid", FLOOD).put("category", "process"))) {
                recorded += o.getInt("count");
            }
            Thread.sleep(20);
        }
        assertEquals("every report that was queued is a start record", n - refused + 1, recorded);
    }

    @Test
    public void paramsCarryWhatActivityManagerSaw() throws Exception {
        JSONObject p = ProcStarts.params(10240, 4321, "com.example.callee", "bound-service",
                "com.example.callee/.S", 10211, "com.example.caller", 1700000000000L);
        assertEquals("{\"uid\":10240,\"reason\":\"service\",\"time_ms\":1700000000000,\"pid\":4321,"
                + "\"process\":\"com.example.callee\",\"component\":\"com.example.callee\\/.S\","
                + "\"caller_uid\":10211,\"caller\":\"com.example.caller\"}", p.toString());
        JSONObject self = ProcStarts.params(10210, 0, null, "content provider", null, 10210, "com.example.callee", 1L);
        assertFalse("the app itself is not its caller: " + self, self.has("caller_uid") || self.has("caller"));
        assertFalse(self.has("pid"));
        JSONObject none = ProcStarts.params(10210, 0, null, "broadcast", null, -1, null, 1L);
        assertFalse(none.has("caller_uid"));
        assertEquals("other", ProcStarts.reason("a-type-from-a-newer-release"));
        assertEquals("provider", ProcStarts.reason("content provider"));
        assertEquals("activity", ProcStarts.reason("top-activity"));
        assertEquals("unknown", ProcStarts.reason(null));
    }

    private JSONObject onlyRow(int uid) throws Exception {
        List<JSONObject> r = waitRows(new JSONObject().put("uid", uid).put("category", "process"), 1);
        assertEquals("rows for uid " + uid + ": " + r, 1, r.size());
        return r.get(0);
    }

    @Test
    public void activityStartsByAnotherAppAreAssociatedAndByTheLauncherAreTheUsers() throws Exception {
        starts = new ProcStarts(client, System::currentTimeMillis, ProcStarts.QUEUE);
        assertTrue(starts.activityStarted(SHARED_TO, 0, "com.example.sharedto", "activity",
                "com.example.sharedto/.ShareActivity", CALLER, "com.example.caller", false, false));
        assertTrue(starts.activityStarted(TAPPED, 0, "com.example.tapped", "top-activity",
                "com.example.tapped/.Main", CALLER, "com.example.caller", true, false));
        assertTrue(starts.activityStarted(RESUMED, 0, "com.example.resumed", "top-activity",
                "com.example.resumed/.Main", CALLER, "com.example.caller", false, true));

        JSONObject shared = onlyRow(SHARED_TO);
        assertEquals("associated_start", shared.getString("kind"));
        JSONObject d = shared.getJSONObject("detail");
        assertEquals("activity", d.getString("reason"));
        assertEquals("com.example.sharedto/.ShareActivity", d.getString("component"));
        assertEquals("com.example.caller", d.getString("caller"));
        assertEquals(CALLER, d.getInt("caller_uid"));

        JSONObject tapped = onlyRow(TAPPED);
        assertEquals("a start from the home app is the user's: " + tapped, "user_start", tapped.getString("kind"));
        assertEquals("launcher", tapped.getJSONObject("detail").getString("reason"));
        JSONObject resumed = onlyRow(RESUMED);
        assertEquals("a start from recents is the user's: " + resumed, "user_start", resumed.getString("kind"));
        assertEquals("recents", resumed.getJSONObject("detail").getString("reason"));
        assertEquals(0, starts.lost());
    }

    @Test
    public void serviceStartsNameTheirCallerAndRestartsNone() throws Exception {
        starts = new ProcStarts(client, System::currentTimeMillis, ProcStarts.QUEUE);
        assertTrue(starts.serviceStarted(BOUND, 0, "com.example.bound", "com.example.bound/.SyncService",
                "unknown", false, CALLER, "com.example.caller"));
        assertTrue(starts.serviceStarted(JOBBED, 0, "com.example.jobbed", "com.example.jobbed/.Job",
                "job", false, 1000, "android"));
        assertTrue(starts.serviceStarted(RESTARTED, 0, "com.example.restarted", "com.example.restarted/.S",
                "unknown", true, CALLER, "com.example.caller"));

        JSONObject bound = onlyRow(BOUND);
        assertEquals("associated_start", bound.getString("kind"));
        JSONObject d = bound.getJSONObject("detail");
        assertEquals("service", d.getString("reason"));
        assertEquals("com.example.bound/.SyncService", d.getString("component"));
        assertEquals("com.example.caller", d.getString("caller"));
        assertEquals(CALLER, d.getInt("caller_uid"));

        JSONObject job = onlyRow(JOBBED);
        assertEquals("a job the system binds is the app's own: " + job, "self_start", job.getString("kind"));
        assertEquals("job", job.getJSONObject("detail").getString("reason"));

        JSONObject restarted = onlyRow(RESTARTED);
        assertEquals("self_start", restarted.getString("kind"));
        JSONObject rd = restarted.getJSONObject("detail");
        assertEquals("restart", rd.getString("reason"));
        assertFalse("a restart names no caller: " + rd, rd.has("caller") || rd.has("caller_uid"));
        assertEquals(0, starts.lost());
    }

    @Test
    public void activityAndServiceReasons() {
        assertEquals("recents", ProcStarts.activityReason("top-activity", true, true));
        assertEquals("launcher", ProcStarts.activityReason("top-activity", true, false));
        assertEquals("activity", ProcStarts.activityReason("activity", false, false));
        assertEquals("service", ProcStarts.serviceReason("unknown"));
        assertEquals("service", ProcStarts.serviceReason(null));
        assertEquals("job", ProcStarts.serviceReason("job"));
        assertEquals("alarm", ProcStarts.serviceReason("alarm"));
        assertEquals("push", ProcStarts.serviceReason("push_message_over_quota"));
    }
}
