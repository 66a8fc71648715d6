package org.permd.bridge.core;

import java.util.function.LongSupplier;
import org.json.JSONObject;

/**
 * Bridge ties the parts together the way the Android service drives
 * them: it reads the catalogue, keeps the policy (fed by a PolicyStream), feeds op and
 * process events to permd, and re-plans and re-applies Android's state
 * whenever the policy changes, an alarm set for the plan's next edge
 * fires, a permission or package changes (PermissionPolicyService may
 * have rewritten modes), or a frequency cap is reached.
 */
public final class Bridge {
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
     * Bridge talks to permd through permd; a PolicyStream must feed
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
     * reapply plans from the current policy at the clock's now and makes
     * Android match; it returns the plan, whose nextMs is when to call
     * again (the glue sets an exact alarm there).
     */
    public Plan reapply() throws Exception {
        replanWanted = false;
        counter.setZone(policy.zone());
        Plan p = planner.plan(policy.grants(), policy.zone(), clock.getAsLong());
        enforcer.apply(p);
        return p;
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
