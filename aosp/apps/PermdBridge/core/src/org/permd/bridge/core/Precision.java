package org.permd.bridge.core;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.json.JSONObject;
import org.permd.client.PermdClient;

/**
 * Precision is the Android-independent half of the location precision
 * patch: LocationProviderManager asks it for every fix it is about to
 * deliver to an app. The radius comes from the permd grant in the Java
 * client's decision cache (no socket round trip per fix); the per-user
 * secret offset from loc.offset (system_server only), kept until permd
 * says it drifts; the grid from LocationFudge, the same math as Go's
 * loc.fudge (shared vectors). So a fix coarsened here is exactly the one
 * loc.fudge would return.
 */
public final class Precision {
    private final PermdClient client;
    private final LongSupplier clock;
    private final ConcurrentHashMap<Integer, double[]> offsets = new ConcurrentHashMap<>(); // user → {x, y, next ms}

    /** Precision reads grants from client's decision cache and offsets from permd; clock is epoch ms. */
    public Precision(PermdClient client, LongSupplier clock) {
        this.client = client;
        this.clock = clock;
    }

    /**
     * coarsen returns {lat, lon, accuracy} to deliver to uid/pkg instead of
     * the fix, or null to deliver it as it is: a full-precision grant, no
     * permd grant, or permd unreachable (Android's own precision, which the
     * bridge set from permd's grant, decides then).
     */
    public double[] coarsen(int uid, String pkg, double lat, double lon, double accuracyM) {
        int r = client.radiusFor(uid, pkg, "location");
        if (r <= 0) {
            return null;
        }
        double[] o = offset(uid / 100000);
        if (o == null) {
            return null;
        }
        return LocationFudge.fudge(o[0], o[1], lat, lon, r, accuracyM);
    }

    private double[] offset(int user) {
        double[] o = offsets.get(user);
        long now = clock.getAsLong();
        if (o != null && now < o[2]) {
            return o;
        }
        try {
            JSONObject j = client.locOffset(user).json();
            o = new double[] {j.getDouble("x"), j.getDouble("y"), j.getLong("next_ms")};
            offsets.put(user, o);
            return o;
        } catch (Exception e) {
            return null;
        }
    }
}
