package org.permd.bridge;

import android.app.ActivityManager;
import android.app.AlarmManager;
import android.app.AppOpsManager;
import android.app.Service;
import android.content.BroadcastReceiver;
import android.content.Context;
import android.content.Intent;
import android.content.IntentFilter;
import android.content.pm.PackageManager;
import android.os.Handler;
import android.os.HandlerThread;
import android.os.IBinder;
import android.os.SystemProperties;
import android.util.Log;
import org.permd.bridge.core.Bridge;
import org.permd.bridge.core.Catalogue;
import org.permd.bridge.core.ClientCalls;
import org.permd.bridge.core.ClientPolicy;
import org.permd.bridge.core.OpFeeder;
import org.permd.bridge.core.Plan;
import org.permd.client.PermdClient;
import org.permd.client.android.LocalSocketTransport;

/**
 * BridgeService is the thin Android glue around org.permd.bridge.core:
 * it registers the AppOps and ActivityManager listeners, runs every permd
 * call on one background thread, re-applies the plan when the policy, a
 * permission or a package changes and at the plan's next edge (an exact
 * alarm), and flushes records every second. All decisions are in core,
 * which is tested on a host JVM; this file is compiled only by Soong.
 */
public final class BridgeService extends Service {
    private static final String TAG = "PermdBridge";
    /**
     * AT_ACCESS_HOOK_PROPERTY is true on a product built with frameworks/base
     * patch 0001 (set it in the product makefile together with the patch).
     */
    static final String AT_ACCESS_HOOK_PROPERTY = "ro.permd.at_access_hook";
    private static final long FLUSH_MS = 1000;
    private static final long HEARTBEAT_MS = 180_000; // well inside permd's max_span (10 min)
    private static final int MAX_QUEUED = 10_000;

    private HandlerThread thread;
    private Handler handler;
    private PermdClient client;
    private Bridge bridge;
    private AlarmManager alarms;
    private final AlarmManager.OnAlarmListener edge = this::reapply;

    @Override
    public void onCreate() {
        super.onCreate();
        thread = new HandlerThread("permd-bridge");
        thread.start();
        handler = new Handler(thread.getLooper());
        alarms = getSystemService(AlarmManager.class);
        LocalSocketTransport transport = new LocalSocketTransport();
        // The decision cache's subscription also feeds the bridge's policy
        // (ClientPolicy): one connection, one policy subscriber slot.
        client = new PermdClient.Builder(transport).decisionCache(true).build();
        handler.post(() -> start(transport));
    }

    private void start(LocalSocketTransport transport) {
        AppOpsManager appOps = getSystemService(AppOpsManager.class);
        PackageManager pm = getPackageManager();
        try {
            bridge = new Bridge(new ClientCalls(client), new AndroidAppOps(appOps, pm), new AndroidPackages(this),
                    System::currentTimeMillis);
        } catch (Exception e) {
            // permd not up yet (it starts in post-fs-data): try again.
            Log.w(TAG, "permd unavailable; retrying: " + e);
            handler.postDelayed(() -> start(transport), 2000);
            return;
        }
        // With frameworks/base patch 0001 the hook in system_server records
        // the accesses it decides; the product says so with this property
        // (docs/android-integration.md), and the feed then skips them.
        bridge.atAccessHookInstalled(SystemProperties.getBoolean(AT_ACCESS_HOOK_PROPERTY, false));
        OpFeeder feeder = bridge.feeder();
        Catalogue cat = bridge.catalogue();
        appOps.startWatchingActive(Catalogue.ACTIVE_OPS.toArray(new String[0]), handler::post,
                (op, uid, pkg, active) -> run(() -> feeder.activeChanged(op, uid, pkg, null, active)));
        appOps.startWatchingNoted(cat.notedOps().toArray(new String[0]), handler::post,
                (op, uid, pkg, tag, flags, result) -> {
                    feeder.noted(op, uid, pkg, tag, flags, result);
                    if (bridge.replanWanted()) {
                        reapply();
                    }
                });
        ActivityManager am = getSystemService(ActivityManager.class);
        // The listener reports crossings of its cutpoint only: one per
        // boundary of permd's states (foreground, visible, background, gone).
        for (int cut : new int[] {ActivityManager.RunningAppProcessInfo.IMPORTANCE_FOREGROUND_SERVICE,
                ActivityManager.RunningAppProcessInfo.IMPORTANCE_VISIBLE,
                ActivityManager.RunningAppProcessInfo.IMPORTANCE_CACHED}) {
            am.addOnUidImportanceListener((uid, importance) -> handler.post(() -> run(() -> feeder.importance(uid, importance))), cut);
        }
        // PermissionPolicyService re-syncs op modes after permission
        // changes: re-apply after every change.
        pm.addOnPermissionsChangeListener(uid -> handler.post(this::reapply));
        IntentFilter f = new IntentFilter();
        f.addAction(Intent.ACTION_PACKAGE_ADDED);
        f.addAction(Intent.ACTION_PACKAGE_REPLACED);
        f.addAction(Intent.ACTION_PACKAGE_FULLY_REMOVED);
        f.addDataScheme("package");
        registerReceiverForAllUsers(new BroadcastReceiver() {
            @Override
            public void onReceive(Context c, Intent i) {
                reapply();
            }
        }, f, null, handler);
        // Reconnected (a later snapshot): uses are not kept across a permd restart.
        client.addPolicyListener(new ClientPolicy(bridge.policy(), () -> handler.post(this::reapply),
                () -> handler.post(() -> run(bridge.feeder()::reconnected))));
        handler.postDelayed(this::flush, FLUSH_MS);
        handler.postDelayed(this::heartbeat, HEARTBEAT_MS);
    }

    private void reapply() {
        try {
            Plan p = bridge.reapply();
            alarms.cancel(edge);
            if (p.nextMs != Long.MAX_VALUE) {
                alarms.setExact(AlarmManager.RTC_WAKEUP, p.nextMs, "permd-bridge:edge", edge, handler);
            }
        } catch (Exception e) {
            Log.e(TAG, "re-apply failed", e);
        }
    }

    private void flush() {
        try {
            while (bridge.feeder().flush() > 0) {
                // send what is queued in batches
            }
        } catch (Exception e) {
            long dropped = bridge.feeder().keepBounded(MAX_QUEUED);
            Log.w(TAG, "ledger.report failed; " + bridge.feeder().queued() + " queued, " + dropped + " dropped: " + e);
        }
        handler.postDelayed(this::flush, FLUSH_MS);
    }

    private void heartbeat() {
        run(() -> bridge.feeder().heartbeat());
        handler.postDelayed(this::heartbeat, HEARTBEAT_MS);
    }

    private static void run(ThrowingRunnable r) {
        try {
            r.run();
        } catch (Exception e) {
            Log.w(TAG, "permd call failed: " + e);
        }
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Override
    public int onStartCommand(Intent intent, int flags, int startId) {
        return START_STICKY;
    }

    @Override
    public IBinder onBind(Intent intent) {
        return null;
    }
}
