package org.permd.bridge.core;

import java.util.List;

/**
 * PackageSurface is the part of PackageManager the bridge reads and
 * changes: requested and granted runtime permissions and their flags
 * (grantRuntimePermission / revokeRuntimePermission /
 * updatePermissionFlags, GRANT/REVOKE_RUNTIME_PERMISSIONS).
 */
public interface PackageSurface {
    /** requested lists the permissions pkg declares in its manifest; empty when it is not installed for user. */
    List<String> requested(String pkg, int user);

    /** uid returns the uid pkg is installed under for user, or -1 when it is not installed. */
    int uid(String pkg, int user);

    /** isGranted tells whether perm is granted to pkg for user. */
    boolean isGranted(String pkg, String perm, int user);

    /** grant grants perm to pkg for user and clears USER_FIXED. */
    void grant(String pkg, String perm, int user);

    /**
     * revoke revokes perm from pkg for user; userFixed also sets
     * FLAG_PERMISSION_USER_FIXED, so the app cannot ask again (a user's
     * denial), otherwise the flag is cleared (an expiry: it may ask again).
     */
    void revoke(String pkg, String perm, int user, boolean userFixed);
}
