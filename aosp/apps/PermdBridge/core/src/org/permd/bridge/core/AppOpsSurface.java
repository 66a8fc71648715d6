package org.permd.bridge.core;

/**
 * AppOpsSurface is the part of AppOpsManager the bridge changes: per-uid
 * modes (AppOpsManager.setUidMode, @SystemApi, MANAGE_APP_OPS_MODES).
 * Mode values are AppOpsManager's.
 */
public interface AppOpsSurface {
    /** MODE_ALLOWED is AppOpsManager.MODE_ALLOWED. */
    int MODE_ALLOWED = 0;
    /** MODE_IGNORED is AppOpsManager.MODE_IGNORED: the op is refused silently (empty data). */
    int MODE_IGNORED = 1;
    /** MODE_ERRORED is AppOpsManager.MODE_ERRORED: the op throws a SecurityException. */
    int MODE_ERRORED = 2;
    /** MODE_DEFAULT is AppOpsManager.MODE_DEFAULT: the permission state decides. */
    int MODE_DEFAULT = 3;
    /** MODE_FOREGROUND is AppOpsManager.MODE_FOREGROUND: allowed only while the app is in the foreground. */
    int MODE_FOREGROUND = 4;

    /** uidMode returns the current mode of op for uid. */
    int uidMode(String op, int uid);

    /** setUidMode sets the mode of op for uid. */
    void setUidMode(String op, int uid, int mode);
}
