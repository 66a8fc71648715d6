package org.permd.bridge.core;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.json.JSONObject;
import org.permd.client.PermdRpcException;

/**
 * Bridge ties the parts together the way the Android service drives
 * them: it reads the catalogue, keeps the policy (fed by a ClientPolicy), feeds op and
 * process events to permd, and re-plans and re-applies Android's state
 * whenever the policy changes, an alarm set for the plan's next edge
 * fires, a permission or package changes (PermissionPolicyService may
 * have rewritten modes), or a frequency cap is reached.
 */
public final class Bridge {
    private static final Logger LOG = Logger.getLogger("PermdBridge");
    private static final int CODE_NOT_FOUND = -32002;
    private final PermdCalls permd;
    private final LongSupplier clock;
    private final PolicyCache policy = new PolicyCache();
    private final FrequencyCounter counter = new FrequencyCounter();
    private final Catalogue catalogue;
    private final Planner planner;
    private final Enforcer enforcer;
    private final OpFeeder feeder;
    private volatile boolean replanWanted;

    /**
     * Bridge talks to permd through permd; a ClientPolicy must feed
     * {@link #policy()}, and call {@link #reapply} after each change.
     */
    public Bridge(PermdCalls permd, AppOpsSurface appOps, PackageSurface packages, LongSupplier clock) throws Exception {
        this.permd = permd;
        this.clock = clock;
        this.catalogue = Catalogue.load(permd);
        this.planner = new Planner(catalogue, packages, counter);
        this.enforcer = new Enforcer(appOps, packages);
        this.feeder = new OpFeeder(permd, catalogue, clock, (uid, category, t) -> {
            counter.setZone(policy.zone());
            counter.served(uid, category, t);
            if (capReached(uid, category, t)) {
                replanWanted = true;
            }
        });
    }

    /**
     * atAccessHookInstalled says that system_server runs the at-access hook
     * (frameworks/base patch 0001): accesses under a permd grant are then
     * recorded by the hook, and the noted-op feed skips them.
     */
    public void atAccessHookInstalled(boolean on) {
        feeder.recordedByHook(on ? (uid, pkg, category) -> policy.has(uid / 100000, pkg, category) : null);
    }

    /**
     * reapply plans from the current policy at the clock's now and makes
     * Android match; it returns the plan, whose nextMs is when to call
     * again (the glue sets an exact alarm there).
     */
    public Plan reapply() throws Exception {
        replanWanted = false;
        counter.setZone(policy.zone());
        long now = clock.getAsLong();
        List<JSONObject> grants = policy.grants();
        Plan p = planner.plan(grants, policy.zone(), now);
        // A permission revoked in Android ends permd's grant: report it,
        // and plan without the grant so this apply does not grant it back
        // (the policy stream then delivers the removal).
        Set<String> ended = reportRevokedOutside(p);
        if (!ended.isEmpty()) {
            grants.removeIf(g -> ended.contains(g.optInt("user") + " " + g.optString("package") + " " + g.optString("category")));
            p = planner.plan(grants, policy.zone(), now);
        }
        enforcer.apply(p);
        return p;
    }

    /**
     * reportRevokedOutside tells permd of each grant revoked in Android
     * and returns those permd no longer holds. One permd could not be told
     * of stays: permd's grant decides, and the apply grants it again.
     */
    private Set<String> reportRevokedOutside(Plan p) {
        Set<String> ended = new TreeSet<>();
        for (String k : enforcer.revokedOutside(p)) {
            String[] f = k.split(" ");
            try {
                permd.call("perm.android_revoked", new JSONObject().put("user", Integer.parseInt(f[0]))
                        .put("package", f[1]).put("category", f[2]));
                ended.add(k);
            } catch (PermdRpcException e) {
                if (e.code() == CODE_NOT_FOUND) {
                    ended.add(k); // already gone in permd
                } else {
                    LOG.log(Level.WARNING, "permd kept a grant revoked in Android: " + k, e);
                }
            } catch (Exception e) {
                LOG.log(Level.WARNING, "permd not told of a grant revoked in Android: " + k, e);
            }
        }
        return ended;
    }

    /** replanWanted tells whether a served access reached a cap since the last reapply. */
    public boolean replanWanted() {
        return replanWanted;
    }

    private boolean capReached(int uid, String category, long t) {
        for (JSONObject g : policy.grants()) {
            JSONObject f = g.optJSONObject("frequency");
            if (f == null || g.optInt("uid", -1) != uid || !category.equals(g.optString("category"))) {
                continue;
            }
            if (counter.count(uid, category, f.optString("per"), t) >= f.optLong("max")) {
                return true;
            }
        }
        return false;
    }

    /** feeder is where AppOpsManager and ActivityManager callbacks go. */
    public OpFeeder feeder() {
        return feeder;
    }

    /** catalogue is permd's op/permission mapping. */
    public Catalogue catalogue() {
        return catalogue;
    }

    /** policy is the cached grant policy. */
    public PolicyCache policy() {
        return policy;
    }
}
