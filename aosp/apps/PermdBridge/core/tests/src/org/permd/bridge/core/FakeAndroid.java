package org.permd.bridge.core;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * FakeAndroid stands in for AppOpsManager and PackageManager: it keeps
 * modes, installed packages and grants in maps and logs every change the
 * bridge makes, so a test can assert exactly which calls were made.
 */
final class FakeAndroid implements AppOpsSurface, PackageSurface {
    final Map<String, Integer> modes = new HashMap<>();
    final Map<String, Integer> uids = new HashMap<>();
    final Map<String, List<String>> requested = new HashMap<>();
    final Set<String> granted = new HashSet<>();
    final Set<String> userFixed = new HashSet<>();
    /** log lists the bridge's calls, e.g. "mode android:camera 10202 4", "revoke+fixed com.x CAMERA". */
    final List<String> log = new ArrayList<>();

    void install(String pkg, int uid, String... perms) {
        uids.put(pkg, uid);
        requested.put(pkg, List.of(perms));
    }

    void uninstall(String pkg) {
        int uid = uids.remove(pkg);
        requested.remove(pkg);
        granted.removeIf(k -> k.startsWith(pkg + " "));
        userFixed.removeIf(k -> k.startsWith(pkg + " "));
        modes.keySet().removeIf(k -> k.endsWith(" " + uid));
    }

    /** sync is what PermissionPolicyService does: set an op's mode from permission state. */
    void sync(String op, int uid, int mode) {
        modes.put(op + " " + uid, mode);
    }

    static String shortPerm(String perm) {
        return perm.substring(perm.lastIndexOf('.') + 1);
    }

    @Override
    public int uidMode(String op, int uid) {
        return modes.getOrDefault(op + " " + uid, MODE_DEFAULT);
    }

    @Override
    public void setUidMode(String op, int uid, int mode) {
        modes.put(op + " " + uid, mode);
        log.add("mode " + op + " " + uid + " " + mode);
    }

    @Override
    public int uid(String pkg, int user) {
        return uids.getOrDefault(pkg, -1);
    }

    @Override
    public List<String> requested(String pkg, int user) {
        return requested.getOrDefault(pkg, List.of());
    }

    @Override
    public boolean isGranted(String pkg, String perm, int user) {
        return granted.contains(pkg + " " + perm);
    }

    @Override
    public void grant(String pkg, String perm, int user) {
        granted.add(pkg + " " + perm);
        userFixed.remove(pkg + " " + perm);
        log.add("grant " + pkg + " " + shortPerm(perm));
    }

    @Override
    public void revoke(String pkg, String perm, int user, boolean fixed) {
        granted.remove(pkg + " " + perm);
        if (fixed) {
            userFixed.add(pkg + " " + perm);
        } else {
            userFixed.remove(pkg + " " + perm);
        }
        log.add((fixed ? "revoke+fixed " : "revoke ") + pkg + " " + shortPerm(perm));
    }

    /** take returns the calls logged since the last take, sorted, and clears the log. */
    List<String> take() {
        List<String> out = new ArrayList<>(log);
        out.sort(null);
        log.clear();
        return out;
    }
}
