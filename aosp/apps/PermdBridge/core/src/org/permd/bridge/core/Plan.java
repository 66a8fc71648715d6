package org.permd.bridge.core;

import java.util.Map;
import java.util.TreeMap;

/**
 * Plan is what Android's state should be for the packages permd holds
 * grants for: per-uid app-op modes and per-package runtime grants, and
 * when the plan must be made again (the next window edge, expiry or cap
 * reset). Plans are values: the enforcer diffs them against Android.
 */
public final class Plan {
    /** Grant is the desired state of one runtime permission. */
    public enum Grant {
        /** GRANTED: granted, USER_FIXED cleared. */
        GRANTED,
        /** REVOKED: revoked, may be asked for again (an expiry, a narrower precision). */
        REVOKED,
        /** DENIED: revoked with USER_FIXED (the user said no). */
        DENIED
    }

    /** modes maps "op uid" to the desired AppOpsManager mode. */
    public final Map<String, Integer> modes = new TreeMap<>();
    /** grants maps "user pkg perm" to the desired grant state. */
    public final Map<String, Grant> grants = new TreeMap<>();
    /** category maps each grants key to the permd category it belongs to. */
    public final Map<String, String> category = new TreeMap<>();
    /** why maps a mode key to the reason, for logs and tests. */
    public final Map<String, String> why = new TreeMap<>();
    /** nextMs is when to plan again (epoch ms), Long.MAX_VALUE for never. */
    public long nextMs = Long.MAX_VALUE;

    /** modeKey names one uid's op. */
    public static String modeKey(String op, int uid) {
        return op + " " + uid;
    }

    /** grantKey names one package's permission for a user. */
    public static String grantKey(int user, String pkg, String perm) {
        return user + " " + pkg + " " + perm;
    }

    void wakeAt(long t) {
        if (t > 0 && t < nextMs) {
            nextMs = t;
        }
    }
}
