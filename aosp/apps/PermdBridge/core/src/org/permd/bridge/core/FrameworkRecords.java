package org.permd.bridge.core;

import org.json.JSONException;
import org.json.JSONObject;
import org.permd.client.PermdClient;

/**
 * FrameworkRecords is the Android-independent half of the frameworks/base
 * patches that record what no listener sees: reads of the installed-app
 * list (the package manager's query methods) and clipboard reads
 * ClipboardService refused before any app-op was noted (an app not in
 * focus). system_server calls it on the binder thread; records go to
 * permd through the Java client's report buffer (ledger.report, batched,
 * never blocking the caller; a full buffer is counted and reported as an
 * overload record, never silently dropped).
 */
public final class FrameworkRecords {
    /** ACTION_MAIN is Intent.ACTION_MAIN. */
    public static final String ACTION_MAIN = "android.intent.action.MAIN";

    private final PermdClient client;
    private final LongSupplierMs clock;

    /** LongSupplierMs gives the time of a record in epoch milliseconds. */
    public interface LongSupplierMs {
        /** nowMs returns the current time in epoch milliseconds. */
        long nowMs();
    }

    /** FrameworkRecords reports through client, timestamped by clock. */
    public FrameworkRecords(PermdClient client, LongSupplierMs clock) {
        this.client = client;
        this.clock = clock;
    }

    /**
     * appListRead records that uid read the installed-app list through api
     * (getInstalledPackages, getInstalledApplications, queryIntentActivities
     * for a listing). Only app uids are recorded: system components list
     * packages all the time, and the records are about apps.
     */
    public void appListRead(int uid, String api) {
        if (isAppUid(uid)) {
            client.reportAsync(record(uid, "app_list_read", "app_list", "allowed", api));
        }
    }

    /**
     * clipboardDenied records a clipboard read Android refused before
     * noting any app-op (the app was not in focus and is not the default
     * input method): result denied, the API named.
     */
    public void clipboardDenied(int uid, String api) {
        if (isAppUid(uid)) {
            client.reportAsync(record(uid, "clipboard_read", "clipboard", "denied", api));
        }
    }

    /**
     * isListing says whether an intent query reads the installed-app list:
     * ACTION_MAIN (launchers' pattern: every app with a main activity),
     * naming neither a package nor a component. Resolving an intent for an
     * action with data (open this link, share this file) is ordinary
     * resolution, not a list read, and is not recorded.
     */
    public static boolean isListing(String action, String pkg, String component) {
        return ACTION_MAIN.equals(action) && pkg == null && component == null;
    }

    /** isAppUid says whether uid belongs to an app (app ids 10000-19999 in any user). */
    static boolean isAppUid(int uid) {
        int appId = uid % 100000;
        return appId >= 10000 && appId <= 19999;
    }

    private JSONObject record(int uid, String kind, String category, String result, String api) {
        try {
            return new JSONObject().put("time_ms", clock.nowMs()).put("uid", uid).put("kind", kind)
                    .put("category", category).put("result", result)
                    .put("detail", new JSONObject().put("api", api));
        } catch (JSONException e) {
            throw new IllegalStateException("building a " + kind + " record: " + e.getMessage(), e);
        }
    }
}
