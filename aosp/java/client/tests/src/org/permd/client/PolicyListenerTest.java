package org.permd.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * PolicyListenerTest follows the policy through the client's own
 * subscription against a real permd: a listener added before the cache
 * is ready and one added after both hold exactly permd's grants, with
 * contiguous seqs after their snapshot, across a SIGKILL and restart of
 * the daemon (a new snapshot then replaces what they hold).
 */
public class PolicyListenerTest {
    private Daemon daemon;
    private final List<PermdClient> clients = new ArrayList<>();

    @Before
    public void setUp() throws Exception {
        daemon = Daemon.start("policy-listener");
    }

    @After
    public void tearDown() throws Exception {
        for (PermdClient c : clients) {
            c.close();
        }
        daemon.close();
    }

    private PermdClient client(PermdClient.Builder b) {
        PermdClient c = b.build();
        clients.add(c);
        return c;
    }

    /** Copy keeps its own copy of the policy from the listener calls, checking their order. */
    static final class Copy implements PolicyListener {
        final Map<String, Long> grants = new TreeMap<>(); // "package/category" → version
        long seq = -1;
        int snapshots;
        final List<String> errors = new ArrayList<>();

        @Override
        public synchronized void onSnapshot(JSONObject snap) {
            snapshots++;
            grants.clear();
            JSONArray a = snap.optJSONArray("grants");
            for (int i = 0; a != null && i < a.length(); i++) {
                JSONObject g = a.optJSONObject(i);
                grants.put(g.optString("package") + "/" + g.optString("category"), g.optLong("version"));
            }
            seq = snap.optLong("seq");
        }

        @Override
        public synchronized void onChange(JSONObject c) {
            if (seq < 0) {
                errors.add("a change before any snapshot: " + c);
                return;
            }
            if (c.optLong("seq") != seq + 1) {
                errors.add("seq " + c.optLong("seq") + " after " + seq);
            }
            seq = c.optLong("seq");
            JSONObject set = c.optJSONObject("set");
            JSONObject removed = c.optJSONObject("removed");
            if (set != null) {
                grants.put(set.optString("package") + "/" + set.optString("category"), set.optLong("version"));
            } else if (removed != null) {
                grants.remove(removed.optString("package") + "/" + removed.optString("category"));
            }
        }

        synchronized String state() {
            return grants.keySet().toString();
        }
    }

    private static String permdGrants(PermdClient admin) throws Exception {
        List<String> out = new ArrayList<>();
        for (Grant g : admin.grantsList(null)) {
            out.add(g.packageName() + "/" + g.category());
        }
        out.sort(null);
        return out.toString();
    }

    @Test(timeout = 120_000)
    public void listenersHoldPermdsGrantsAcrossARestart() throws Exception {
        PermdClient admin = client(daemon.client());
        admin.grantsSet(DaemonTest.grant(Daemon.PKG_CAM, "camera", "{\"mode\":\"while_in_use\"}"));
        PermdClient c = client(daemon.client().decisionCache(true));
        Copy early = new Copy();
        c.addPolicyListener(early);
        DaemonTest.waitFor("the first snapshot", () -> early.state().equals("[com.example.cam/camera]"));

        admin.grantsSet(DaemonTest.grant("com.example.maps", "location", "{\"mode\":\"while_in_use\"}"));
        DaemonTest.waitFor("a set", () -> early.state().equals("[com.example.cam/camera, com.example.maps/location]"));
        Copy late = new Copy();
        c.addPolicyListener(late);
        DaemonTest.waitFor("the late listener's snapshot", () -> late.state().equals(early.state()));
        assertEquals("the late listener starts from the current policy", 1, late.snapshots);

        admin.grantsRevoke(0, Daemon.PKG_CAM, "camera");
        DaemonTest.waitFor("a removal in both", () -> early.state().equals("[com.example.maps/location]")
                && late.state().equals("[com.example.maps/location]"));

        daemon.kill();
        daemon.launch();
        admin.grantsSet(DaemonTest.grant("com.example.maps", "camera", "{\"mode\":\"while_in_use\"}"));
        String want = permdGrants(admin);
        DaemonTest.waitFor("both listeners after the restart", () -> early.state().equals(want) && late.state().equals(want));
        assertTrue("no new snapshot after the restart", early.snapshots >= 2 && late.snapshots >= 2);
        assertEquals(List.of(), early.errors);
        assertEquals(List.of(), late.errors);

        c.removePolicyListener(late);
        admin.grantsRevoke(0, "com.example.maps", "camera");
        DaemonTest.waitFor("the removal in the remaining listener", () -> !early.state().contains("com.example.maps/camera"));
        // The removed listener's copy stays where it was.
        assertTrue(late.state().contains("com.example.maps/camera"));
    }

    @Test(expected = IllegalStateException.class)
    public void listenersNeedTheDecisionCache() {
        client(daemon.client()).addPolicyListener(new Copy());
    }
}
