package org.permd.bridge.core;

import java.util.concurrent.ConcurrentHashMap;
import org.permd.client.CheckResult;
import org.permd.client.PermdClient;

/**
 * AtAccess is the Android-independent half of the at-access enforcement
 * patch: the hook in AppOpsPolicy (a CheckOpsDelegate wrapping
 * noteOperation/startOperation in system_server) calls {@link #mode}, which
 * asks the Java client's in-process decision cache (a socket round trip
 * only for frequency caps and "once" grants, whose counters permd holds)
 * and turns permd's answer into the app-op mode Android then applies.
 *
 * <p>The mapping, and why:
 * <ul>
 * <li>allowed, reduced → MODE_ALLOWED (a reduced location is coarsened by
 *     the LocationProviderManager patch, not refused);</li>
 * <li>decoy, rate_limited, and denied for any other reason than
 *     no_grant → MODE_IGNORED: the app gets Android's empty data, which is
 *     what permd's "empty data" means and what apps already handle;</li>
 * <li>no permd grant (not asked, nothing recorded), no_grant, or permd
 *     unreachable → MODE_DEFAULT: Android's own
 *     permission state decides, so apps granted before permd was added
 *     keep working until the user decides in permd's dialog;</li>
 * <li>an op outside the ten categories → MODE_DEFAULT, untouched.</li>
 * </ul>
 */
public final class AtAccess {
    private final PermdClient client;
    private final Catalogue catalogue;
    // The app state of each uid as the hook's uid-importance listener last
    // saw it. The hook keeps its own copy instead of asking ActivityManager
    // on every note: noteOperation runs on paths that may hold
    // ActivityManager's locks, and a call back into it could deadlock.
    private final ConcurrentHashMap<Integer, String> states = new ConcurrentHashMap<>();

    /** AtAccess decides with client's decision cache and the catalogue's op mapping. */
    public AtAccess(PermdClient client, Catalogue catalogue) {
        this.client = client;
        this.catalogue = catalogue;
    }

    /**
     * mode decides one note or start of op by uid/pkg; state is the app's
     * state as system_server knows it (foreground, visible, background),
     * or null.
     */
    public int mode(String op, int uid, String pkg, String state) {
        String category = catalogue.category(op);
        if (category == null) {
            return AppOpsSurface.MODE_DEFAULT;
        }
        // Only an access under a permd grant is decided, and recorded, here;
        // without one (or before the decision cache is ready, a moment after
        // system_server connects) Android decides and the bridge's noted-op
        // feed records the access once, with Android's result (see
        // OpFeeder.recordedByHook).
        if (client.hasGrant(uid, pkg, category) != 1) {
            return AppOpsSurface.MODE_DEFAULT;
        }
        CheckResult r;
        try {
            r = client.check(uid, pkg, category, op, state);
        } catch (Exception e) {
            return AppOpsSurface.MODE_DEFAULT;
        }
        return modeOf(r.result(), r.reason());
    }

    /**
     * importance records uid's ActivityManager importance
     * (RunningAppProcessInfo.IMPORTANCE_*), as the hook's
     * OnUidImportanceListener reports it; a uid that is gone is forgotten.
     */
    public void importance(int uid, int importance) {
        String st = OpFeeder.stateOf(importance);
        if ("not_running".equals(st)) {
            states.remove(uid);
        } else {
            states.put(uid, st);
        }
    }

    /**
     * mode decides one note or start with the app state last recorded by
     * {@link #importance}. Without a known state the client cannot decide a
     * foreground-only grant from its cache and asks permd.
     */
    public int mode(String op, int uid, String pkg) {
        return mode(op, uid, pkg, states.get(uid));
    }

    /** modeOf maps permd's result and reason to an AppOpsManager mode. */
    static int modeOf(String result, String reason) {
        switch (result) {
            case "allowed":
            case "reduced":
                return AppOpsSurface.MODE_ALLOWED;
            case "decoy":
            case "rate_limited":
                return AppOpsSurface.MODE_IGNORED;
            default:
                if ("no_grant".equals(reason) || CheckResult.REASON_UNAVAILABLE.equals(reason)) {
                    return AppOpsSurface.MODE_DEFAULT;
                }
                return AppOpsSurface.MODE_IGNORED;
        }
    }
}
