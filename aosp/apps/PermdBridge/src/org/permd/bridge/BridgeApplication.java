package org.permd.bridge;

import android.app.Application;
import android.content.Intent;

/**
 * BridgeApplication starts the bridge service as soon as ActivityManager
 * brings the persistent process up (at boot, and after any crash).
 */
public final class BridgeApplication extends Application {
    @Override
    public void onCreate() {
        super.onCreate();
        startService(new Intent(this, BridgeService.class));
    }
}
