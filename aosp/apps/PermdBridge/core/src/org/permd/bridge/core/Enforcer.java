package org.permd.bridge.core;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Enforcer makes Android's state match a plan, touching only what
 * differs, and undoes what it set when a grant goes away: a mode it had
 * set returns to MODE_DEFAULT (the permission decides again) and a
 * permission it had granted is revoked without USER_FIXED (an expired or
 * revoked grant: the app may ask again). Apply it again after anything
 * that can rewrite modes behind its back: PermissionPolicyService re-syncs
 * app-op modes from permission state on permission and package changes,
 * and at boot.
 */
public final class Enforcer {
    private final AppOpsSurface appOps;
    private final PackageSurface packages;
    private Map<String, Integer> ownModes = new HashMap<>();
    private Map<String, Plan.Grant> ownGrants = new HashMap<>();

    /** Enforcer changes Android through the given surfaces. */
    public Enforcer(AppOpsSurface appOps, PackageSurface packages) {
        this.appOps = appOps;
        this.packages = packages;
    }

    /** Changes counts what one apply changed. */
    public static final class Changes {
        /** modes is the number of setUidMode calls. */
        public int modes;
        /** grants is the number of grant/revoke calls. */
        public int grants;

        @Override
        public String toString() {
            return modes + " mode(s), " + grants + " grant(s)";
        }
    }

    /**
     * revokedOutside returns the grants, as "user pkg category", whose
     * every permission this enforcer granted (and plan still wants granted)
     * is no longer granted: revoked outside the bridge, by the user in
     * Settings, `pm revoke`, or Android's revocation of unused apps' permissions. A
     * category with one permission still granted is a narrowing
     * (approximate instead of precise location, foreground instead of
     * always), not a revoke, and is not listed. Uninstalled packages are
     * skipped: their grants end in permd from packages.list.
     */
    public synchronized Set<String> revokedOutside(Plan plan) {
        Map<String, Boolean> anyGranted = new TreeMap<>();
        for (Map.Entry<String, Plan.Grant> e : plan.grants.entrySet()) {
            if (e.getValue() != Plan.Grant.GRANTED || ownGrants.get(e.getKey()) != Plan.Grant.GRANTED) {
                continue;
            }
            String[] k = e.getKey().split(" ");
            int user = Integer.parseInt(k[0]);
            if (packages.requested(k[1], user).isEmpty()) {
                continue;
            }
            String cat = k[0] + " " + k[1] + " " + plan.category.get(e.getKey());
            anyGranted.merge(cat, packages.isGranted(k[1], k[2], user), Boolean::logicalOr);
        }
        Set<String> out = new TreeSet<>();
        for (Map.Entry<String, Boolean> e : anyGranted.entrySet()) {
            if (!e.getValue()) {
                out.add(e.getKey());
            }
        }
        return out;
    }

    /** apply brings Android in line with plan. */
    public synchronized Changes apply(Plan plan) {
        Changes c = new Changes();
        for (Map.Entry<String, Integer> e : plan.modes.entrySet()) {
            String[] k = e.getKey().split(" ");
            int uid = Integer.parseInt(k[1]);
            if (appOps.uidMode(k[0], uid) != e.getValue()) {
                appOps.setUidMode(k[0], uid, e.getValue());
                c.modes++;
            }
        }
        for (String k : ownModes.keySet()) {
            if (!plan.modes.containsKey(k)) {
                String[] p = k.split(" ");
                int uid = Integer.parseInt(p[1]);
                if (appOps.uidMode(p[0], uid) != AppOpsSurface.MODE_DEFAULT) {
                    appOps.setUidMode(p[0], uid, AppOpsSurface.MODE_DEFAULT);
                    c.modes++;
                }
            }
        }
        for (Map.Entry<String, Plan.Grant> e : plan.grants.entrySet()) {
            String[] k = e.getKey().split(" ");
            int user = Integer.parseInt(k[0]);
            boolean granted = packages.isGranted(k[1], k[2], user);
            Plan.Grant had = ownGrants.get(e.getKey());
            switch (e.getValue()) {
                case GRANTED:
                    if (!granted) {
                        packages.grant(k[1], k[2], user);
                        c.grants++;
                    }
                    break;
                case REVOKED:
                    if (granted) {
                        packages.revoke(k[1], k[2], user, false);
                        c.grants++;
                    }
                    break;
                case DENIED:
                    // USER_FIXED must be set even when already revoked.
                    if (granted || had != Plan.Grant.DENIED) {
                        packages.revoke(k[1], k[2], user, true);
                        c.grants++;
                    }
                    break;
            }
        }
        for (Map.Entry<String, Plan.Grant> e : ownGrants.entrySet()) {
            if (plan.grants.containsKey(e.getKey())) {
                continue;
            }
            String[] k = e.getKey().split(" ");
            int user = Integer.parseInt(k[0]);
            if (packages.requested(k[1], user).isEmpty()) {
                continue; // uninstalled: Android dropped its state with the package
            }
            if (e.getValue() == Plan.Grant.GRANTED && packages.isGranted(k[1], k[2], user)) {
                packages.revoke(k[1], k[2], user, false);
                c.grants++;
            } else if (e.getValue() == Plan.Grant.DENIED) {
                // The user's denial was withdrawn in permd: let the app ask again.
                packages.revoke(k[1], k[2], user, false);
                c.grants++;
            }
        }
        ownModes = new HashMap<>(plan.modes);
        ownGrants = new HashMap<>(plan.grants);
        return c;
    }
}
