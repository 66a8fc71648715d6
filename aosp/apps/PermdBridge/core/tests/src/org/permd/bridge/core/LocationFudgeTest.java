package org.permd.bridge.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.json.JSONObject;
import org.junit.Test;

/**
 * LocationFudgeTest replays the vectors the Go fudger generated
 * (grants/fudge_vectors_test.go): the Java grid math must give Go's
 * answers for the same offset, point, radius and accuracy.
 */
public class LocationFudgeTest {
    // Go's math.Cos and Java's Math.cos may differ in the last bit; a
    // difference of 1e-9 degrees is 0.1 mm. A different cell would be off
    // by a whole grid step (at least 200 m), far outside this bound.
    private static final double EPS = 1e-9;

    @Test
    public void matchesGoVectors() throws Exception {
        Path f = Path.of(System.getProperty("permd.testdata"), "fudge_vectors.ndjson");
        List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
        assertTrue("too few vectors in " + f + ": " + lines.size(), lines.size() >= 100);
        int exact = 0;
        for (int i = 0; i < lines.size(); i++) {
            JSONObject v = new JSONObject(lines.get(i));
            double[] got = LocationFudge.fudge(v.getDouble("ox"), v.getDouble("oy"), v.getDouble("lat"),
                    v.getDouble("lon"), v.getDouble("radius_m"), v.getDouble("accuracy_m"));
            String c = "case " + (i + 1) + " " + lines.get(i);
            assertEquals(c + ": lat", v.getDouble("want_lat"), got[0], EPS);
            assertEquals(c + ": lon", v.getDouble("want_lon"), got[1], EPS);
            assertEquals(c + ": accuracy", v.getDouble("want_accuracy_m"), got[2], 0);
            if (got[0] == v.getDouble("want_lat") && got[1] == v.getDouble("want_lon")) {
                exact++;
            }
        }
        System.out.println("LocationFudgeTest: " + exact + " of " + lines.size() + " vectors bit-identical");
    }
}
