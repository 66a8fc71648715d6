package org.permd.bridge;

import android.content.Context;
import android.content.pm.PackageInfo;
import android.content.pm.PackageManager;
import android.os.UserHandle;
import java.util.Arrays;
import java.util.List;
import org.permd.bridge.core.PackageSurface;

/**
 * AndroidPackages is PackageSurface over PackageManager
 * (GRANT/REVOKE_RUNTIME_PERMISSIONS, GET_RUNTIME_PERMISSIONS,
 * INTERACT_ACROSS_USERS).
 */
final class AndroidPackages implements PackageSurface {
    private final Context context;

    AndroidPackages(Context context) {
        this.context = context;
    }

    private PackageManager pm(int user) {
        return context.createContextAsUser(UserHandle.of(user), 0).getPackageManager();
    }

    @Override
    public int uid(String pkg, int user) {
        try {
            return pm(user).getPackageUid(pkg, 0);
        } catch (PackageManager.NameNotFoundException e) {
            return -1;
        }
    }

    @Override
    public List<String> requested(String pkg, int user) {
        try {
            PackageInfo pi = pm(user).getPackageInfo(pkg, PackageManager.GET_PERMISSIONS);
            return pi.requestedPermissions == null ? List.of() : Arrays.asList(pi.requestedPermissions);
        } catch (PackageManager.NameNotFoundException e) {
            return List.of();
        }
    }

    @Override
    public boolean isGranted(String pkg, String perm, int user) {
        return pm(user).checkPermission(perm, pkg) == PackageManager.PERMISSION_GRANTED;
    }

    @Override
    public void grant(String pkg, String perm, int user) {
        PackageManager pm = context.getPackageManager();
        UserHandle u = UserHandle.of(user);
        pm.updatePermissionFlags(perm, pkg, PackageManager.FLAG_PERMISSION_USER_FIXED, 0, u);
        pm.grantRuntimePermission(pkg, perm, u);
    }

    @Override
    public void revoke(String pkg, String perm, int user, boolean userFixed) {
        PackageManager pm = context.getPackageManager();
        UserHandle u = UserHandle.of(user);
        pm.revokeRuntimePermission(pkg, perm, u);
        pm.updatePermissionFlags(perm, pkg, PackageManager.FLAG_PERMISSION_USER_FIXED,
                userFixed ? PackageManager.FLAG_PERMISSION_USER_FIXED : 0, u);
    }
}
