package org.permd.bridge.core;

import static org.junit.Assert.assertEquals;

import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.List;
import org.json.JSONObject;
import org.junit.Test;

/**
 * PlannerTest covers plans no daemon test reaches cheaply: a daily window
 * across midnight, in a zone other than UTC.
 */
public class PlannerTest {
    private static final ZoneId ZONE = ZoneId.of("Asia/Shanghai");

    private static long at(int day, int h, int m) {
        return ZonedDateTime.of(2026, 3, day, h, m, 0, 0, ZONE).toInstant().toEpochMilli();
    }

    @Test
    public void windowAcrossMidnight() throws Exception {
        Catalogue cat = Catalogue.fromJson(new JSONObject(
                "{\"categories\":[{\"id\":\"camera\",\"app_ops\":[\"android:camera\"],\"permissions\":[\"android.permission.CAMERA\"]}]}"));
        FakeAndroid a = new FakeAndroid();
        a.install("com.example.night", 10300, "android.permission.CAMERA");
        Planner pl = new Planner(cat, a, new FrequencyCounter());
        List<JSONObject> g = List.of(new JSONObject("{\"user\":0,\"package\":\"com.example.night\",\"category\":\"camera\","
                + "\"uid\":10300,\"decision\":\"allow\",\"time\":{\"mode\":\"window\",\"window\":\"22:00-06:00\"}}"));
        String k = Plan.modeKey("android:camera", 10300);
        Plan p = pl.plan(g, ZONE, at(2, 5, 59));
        assertEquals("05:59, before the end", AppOpsSurface.MODE_FOREGROUND, (int) p.modes.get(k));
        assertEquals(at(2, 6, 0), p.nextMs);
        p = pl.plan(g, ZONE, at(2, 6, 0));
        assertEquals("06:00, the end", AppOpsSurface.MODE_IGNORED, (int) p.modes.get(k));
        assertEquals(at(2, 22, 0), p.nextMs);
        p = pl.plan(g, ZONE, at(2, 23, 30));
        assertEquals("23:30, after the start", AppOpsSurface.MODE_FOREGROUND, (int) p.modes.get(k));
        assertEquals(at(3, 6, 0), p.nextMs);
    }
}
