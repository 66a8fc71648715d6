package org.permd.bridge.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.fail;

import java.nio.file.Path;
import org.json.JSONObject;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.permd.client.PermdClient;
import org.permd.client.jdk.UnixSocketTransport;

/**
 * PrecisionTest: what the location precision patch delivers in
 * system_server, computed in-process from the decision cache, loc.offset
 * and LocationFudge, is exactly what permd's loc.fudge returns for the same
 * fix, for every radius level; full precision and no grant leave the fix
 * alone.
 */
public class PrecisionTest {
    private PermdClient client;
    private Precision precision;

    @Before
    public void setUp() throws Exception {
        client = new PermdClient.Builder(new UnixSocketTransport(Path.of(System.getProperty("permd.socket"))))
                .decisionCache(true).build();
        precision = new Precision(client, System::currentTimeMillis);
    }

    @After
    public void tearDown() {
        client.close();
    }

    private void grant(int uid, String level) throws Exception {
        client.call("grants.set", new JSONObject("{\"uid\":" + uid + ",\"package\":\"com.example.where\",\"category\":\"location\","
                + "\"time\":{\"mode\":\"while_in_use\"},\"precision\":{\"level\":\"" + level + "\"}}"));
        for (int i = 0; i < 200 && client.radiusFor(uid, "com.example.where", "location") != expect(level); i++) {
            Thread.sleep(10);
        }
    }

    private static int expect(String level) {
        switch (level) {
            case "exact":
                return 0;
            case "approx_1km":
                return 1000;
            case "approx_3km":
                return 3000;
            default:
                return 10000;
        }
    }

    @Test
    public void inProcessCoarseningIsLocFudge() throws Exception {
        double[][] fixes = {{31.2304, 121.4737, 5}, {39.9042, 116.4074, 25}, {-33.8688, 151.2093, 3000}, {64.1466, -21.9426, 12}};
        for (String level : new String[] {"approx_1km", "approx_3km", "city"}) {
            grant(10218, level);
            assertEquals(level, expect(level), client.radiusFor(10218, "com.example.where", "location"));
            for (double[] f : fixes) {
                double[] got = precision.coarsen(10218, "com.example.where", f[0], f[1], f[2]);
                JSONObject want = (JSONObject) client.call("loc.fudge", new JSONObject().put("uid", 10218)
                        .put("package", "com.example.where").put("lat", f[0]).put("lon", f[1]).put("accuracy_m", f[2]));
                if (got == null) {
                    fail(level + ": no coarsening for " + f[0] + "," + f[1]);
                }
                // Go's math.Cos and Java's Math.cos may differ in the last
                // bit (see LocationFudgeTest): 1e-9 degrees is 0.1 mm, a
                // different grid cell would be 200 m off or more.
                assertArrayEquals(level + " at " + f[0] + "," + f[1],
                        new double[] {want.getDouble("lat"), want.getDouble("lon"), want.getDouble("accuracy_m")}, got, 1e-9);
            }
        }
        grant(10218, "exact");
        assertNull("full precision is delivered as it is", precision.coarsen(10218, "com.example.where", 31.2304, 121.4737, 5));
        assertNull("no permd grant: Android decides", precision.coarsen(10219, "com.example.elsewhere", 31.2304, 121.4737, 5));
    }
}
