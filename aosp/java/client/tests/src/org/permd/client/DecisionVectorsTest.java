package org.permd.client;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.time.ZoneId;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeSet;
import org.json.JSONArray;
import org.json.JSONObject;
import org.junit.Test;

/**
 * DecisionVectorsTest replays the shared decision vectors, generated from
 * permd's Go engine (grants/vectors_test.go), through the Java evaluator:
 * every decision must be the same, field by field.
 */
public class DecisionVectorsTest {
    static Path vectors() {
        return Paths.get(System.getProperty("permd.testdata", "aosp/java/client/tests/testdata"), "decisions.ndjson");
    }

    @Test
    public void javaEvaluatorAgreesWithGoEngineOnEveryVector() throws Exception {
        int n = 0;
        int windows = 0;
        int zones = 0;
        TreeSet<String> reasons = new TreeSet<>();
        try (BufferedReader r = Files.newBufferedReader(vectors(), StandardCharsets.UTF_8)) {
            JSONObject head = new JSONObject(r.readLine());
            assertEquals("permd-decision-vectors/1", head.getString("format"));
            Map<String, Evaluator.Category> cats = new HashMap<>();
            JSONArray cs = head.getJSONArray("categories");
            for (int i = 0; i < cs.length(); i++) {
                Evaluator.Category c = new Evaluator.Category(cs.getJSONObject(i));
                cats.put(c.id, c);
            }
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isEmpty()) {
                    continue;
                }
                n++;
                JSONObject v = new JSONObject(line);
                JSONObject in = v.getJSONObject("input");
                JSONObject want = v.getJSONObject("decision");
                JSONObject g = in.getJSONObject("grant");
                Evaluator.Compiled c = new Evaluator.Compiled(g, cats.get(g.getString("category")));
                CheckResult got = Evaluator.decide(c, Instant.ofEpochMilli(in.getLong("now_ms")),
                        ZoneId.of(in.getString("zone")).getRules(), in.getString("state"), in.getLong("count"), true);
                String diff = diff(want, got.json());
                if (diff != null) {
                    fail("vector " + n + ": " + diff + "\ninput: " + in + "\ngo:    " + want + "\njava:  " + got.json());
                }
                reasons.add(want.getString("reason"));
                if ("window".equals(g.getJSONObject("time").optString("mode"))) {
                    windows++;
                }
                if (!"UTC".equals(in.getString("zone"))) {
                    zones++;
                }
            }
        }
        assertTrue("too few vectors: " + n, n >= 1000);
        assertTrue("too few window vectors: " + windows, windows >= 100);
        assertTrue("too few non-UTC vectors: " + zones, zones >= 500);
        for (String want : new String[] {"granted", "reduced_precision", "empty_data", "user_denied", "background",
                "outside_window", "expired", "frequency_limit"}) {
            assertTrue("no vector with reason " + want + " (have " + reasons + ")", reasons.contains(want));
        }
    }

    /** crossMidnightWindowSpansTwoDays: 22:00-06:00 is read as two spans. */
    @Test
    public void crossMidnightWindowSpansTwoDays() throws Exception {
        JSONObject cat = new JSONObject("{\"id\":\"camera\",\"levels\":[{\"id\":\"full\",\"effect\":\"full\"}]}");
        JSONObject g = new JSONObject("{\"user\":0,\"package\":\"com.a.b\",\"category\":\"camera\",\"decision\":\"allow\","
                + "\"time\":{\"mode\":\"window\",\"window\":\"22:00-06:00\"},\"precision\":{\"level\":\"full\"},"
                + "\"set\":\"2026-03-01T00:00:00Z\",\"version\":1}");
        Evaluator.Compiled c = new Evaluator.Compiled(g, new Evaluator.Category(cat));
        java.time.zone.ZoneRules sh = ZoneId.of("Asia/Shanghai").getRules();
        String[][] cases = {
            {"2026-03-02T14:30:00Z", "granted"}, // 22:30 Shanghai
            {"2026-03-02T21:59:00Z", "granted"}, // 05:59
            {"2026-03-02T22:00:00Z", "outside_window"}, // 06:00
            {"2026-03-02T13:59:00Z", "outside_window"}, // 21:59
        };
        for (String[] tc : cases) {
            CheckResult r = Evaluator.decide(c, Instant.parse(tc[0]), sh, "foreground", 0, true);
            assertEquals(tc[0], tc[1], r.reason());
        }
    }

    /** diff compares two decisions key by key; null when equal. */
    static String diff(JSONObject want, JSONObject got) throws Exception {
        TreeSet<String> keys = new TreeSet<>();
        for (Iterator<String> it = want.keys(); it.hasNext();) {
            keys.add(it.next());
        }
        for (Iterator<String> it = got.keys(); it.hasNext();) {
            keys.add(it.next());
        }
        for (String k : keys) {
            Object a = want.opt(k);
            Object b = got.opt(k);
            if (a == null || b == null) {
                return "field " + k + ": go " + a + ", java " + b;
            }
            if (a instanceof Number && b instanceof Number) {
                if (((Number) a).longValue() != ((Number) b).longValue()) {
                    return "field " + k + ": go " + a + ", java " + b;
                }
            } else if (!a.toString().equals(b.toString())) {
                return "field " + k + ": go " + a + ", java " + b;
            }
        }
        return null;
    }
}
