package org.permd.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.Map;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * LongUseTest runs permd with a 2 s max_span and a 1 s idle timeout: a use
 * kept by the client outlives max_span (heartbeats go out on time), and a
 * client with no subscription survives the daemon closing it when idle.
 */
public class LongUseTest {
    private Daemon daemon;

    @Before
    public void setUp() throws Exception {
        daemon = Daemon.start("long", Map.of(
                "indicator.json", "{\"version\":1,\"hold\":\"0s\",\"max_span\":\"2s\"}",
                "permd.json", Daemon.ROLES.replace("\"30s\"", "\"1s\"")));
    }

    @After
    public void tearDown() throws Exception {
        daemon.close();
    }

    @Test(timeout = 60_000)
    public void heartbeatsKeepALongUseShown() throws Exception {
        try (PermdClient c = daemon.client().heartbeatMs(500).build(); PermdClient probe = daemon.client().build()) {
            Use u = c.opStart("microphone", Daemon.UID_APP, Daemon.PKG_CAM, 0, null);
            Thread.sleep(5_000); // 2.5 x max_span
            assertTrue("microphone off while the use is active", probe.indicatorGet().on("microphone"));
            assertEquals(null, u.ended());
            c.opFinish(u);
            assertTrue("microphone still on after finish (hold 0s)", !probe.indicatorGet().on("microphone"));
        }
    }

    @Test(timeout = 60_000)
    public void withoutHeartbeatsPermdEndsTheUse() throws Exception {
        // The control for the test above: the same use started through the
        // generic call, which the client does not keep alive.
        try (PermdClient c = daemon.client().build(); PermdClient probe = daemon.client().build()) {
            c.call("op.start", PermdClient.obj("resource", "microphone", "uid", Daemon.UID_APP, "package", Daemon.PKG_CAM));
            assertTrue(probe.indicatorGet().on("microphone"));
            DaemonTest.waitFor("use ended by max_span", () -> {
                try {
                    return !probe.indicatorGet().on("microphone");
                } catch (PermdException e) {
                    return false;
                }
            });
        }
    }

    @Test(timeout = 60_000)
    public void callsWorkAfterTheIdleTimeoutClosedTheConnection() throws Exception {
        try (PermdClient c = daemon.client().build()) {
            assertEquals(1, c.sysVersion().json().getInt("protocol"));
            // permd closes the idle connection after 1 s; wait until the
            // client has seen it closed, or has already connected again by
            // itself (a call racing the close itself fails with
            // PermdUnavailableException, see docs/java-client.md).
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (c.linkAlive() && c.reconnects() == 0) {
                assertTrue("permd did not close the idle connection within 30 s", System.nanoTime() < deadline);
                Thread.sleep(50);
            }
            assertEquals(1, c.sysVersion().json().getInt("protocol"));
            assertTrue("no reconnect after the idle close", c.reconnects() >= 1);
        }
    }
}
