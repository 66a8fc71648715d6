package org.permd.bridge.core;

/**
 * LocationFudge is permd's location coarsening (loc.fudge, Go package
 * grants, fudge.go) as a pure function, for the LocationProviderManager
 * patch: the per-user secret offset (ox, oy), standard normal units, comes
 * from permd; the grid math here must give the same answers as Go's, which
 * shared vectors (tests/testdata/fudge_vectors.ndjson, generated from the
 * Go code) check.
 *
 * <p>The point moves by the offset times r/4 metres, then snaps to the
 * centre of a grid cell of r metres (latitude step r/111000 degrees,
 * longitude step that divided by cos(latitude)); the accuracy reported is
 * max(r, the fix's own accuracy). Within one offset period every fix in a
 * cell gets the same answer, so averaging gains nothing.
 */
public final class LocationFudge {
    private static final double METRES_PER_DEGREE = 111000.0;
    private static final double MAX_LATITUDE = 89.9;

    private LocationFudge() {}

    /**
     * fudge returns {lat, lon, accuracy} coarsened to radiusM metres with
     * the offset (ox, oy); radiusM <= 0 returns the point unchanged.
     */
    public static double[] fudge(double ox, double oy, double lat, double lon, double radiusM, double accuracyM) {
        if (radiusM <= 0) {
            return new double[] {lat, lon, accuracyM};
        }
        double latStep = radiusM / METRES_PER_DEGREE;
        lat += oy * radiusM / 4 / METRES_PER_DEGREE;
        lat = clampLat(lat);
        lon += ox * radiusM / 4 / (METRES_PER_DEGREE * Math.cos(lat * Math.PI / 180));
        lat = clampLat((Math.floor(lat / latStep) + 0.5) * latStep);
        double lonStep = latStep / Math.cos(lat * Math.PI / 180);
        lon = (Math.floor(lon / lonStep) + 0.5) * lonStep;
        lon = wrapLon(lon);
        return new double[] {lat, lon, Math.max(radiusM, accuracyM)};
    }

    private static double clampLat(double lat) {
        return Math.max(-MAX_LATITUDE, Math.min(MAX_LATITUDE, lat));
    }

    private static double wrapLon(double lon) {
        while (lon >= 180) {
            lon -= 360;
        }
        while (lon < -180) {
            lon += 360;
        }
        return lon;
    }
}
