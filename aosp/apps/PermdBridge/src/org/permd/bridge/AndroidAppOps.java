package org.permd.bridge;

import android.app.AppOpsManager;
import android.content.pm.PackageManager;
import org.permd.bridge.core.AppOpsSurface;

/** AndroidAppOps is AppOpsSurface over AppOpsManager (MANAGE_APP_OPS_MODES, GET_APP_OPS_STATS). */
final class AndroidAppOps implements AppOpsSurface {
    private final AppOpsManager appOps;
    private final PackageManager pm;

    AndroidAppOps(AppOpsManager appOps, PackageManager pm) {
        this.appOps = appOps;
        this.pm = pm;
    }

    @Override
    public int uidMode(String op, int uid) {
        String[] pkgs = pm.getPackagesForUid(uid);
        if (pkgs == null || pkgs.length == 0) {
            return MODE_DEFAULT;
        }
        // The raw mode: the uid mode where one is set, else the package's.
        return appOps.unsafeCheckOpRawNoThrow(op, uid, pkgs[0]);
    }

    @Override
    public void setUidMode(String op, int uid, int mode) {
        appOps.setUidMode(op, uid, mode);
    }
}
