package org.permd.bridge;

import android.content.BroadcastReceiver;
import android.content.Context;
import android.content.Intent;

/**
 * BootReceiver starts the service on (locked) boot completion, in case the
 * persistent start was skipped (e.g. the app was updated on /data).
 */
public final class BootReceiver extends BroadcastReceiver {
    @Override
    public void onReceive(Context context, Intent intent) {
        context.startService(new Intent(context, BridgeService.class));
    }
}
