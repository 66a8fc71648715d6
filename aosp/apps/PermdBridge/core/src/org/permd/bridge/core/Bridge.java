package org.permd.bridge.core;

import java.util.function.LongSupplier;
import org.json.JSONObject;

/**
 * Bridge ties the parts together the way the Android service drives
 * them: it reads the catalogue and subscribes to the policy, feeds op and
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
     * Bridge connects to permd through permd (whose notifications for
     * policy.changed must reach {@link #policyChanged}).
     */
    public Bridge(PermdCalls permd, AppOpsSurface appOps, PackageSurface packages, LongSupplier clock) throws Exception {
        this.permd = permd;
        this.clock = clock;
        this.catalogue = Catalogue.load(permd);
        this.planner = new Planner(catalogue, packages, counter);
        this.enforcer = new Enforcer(appOps, packages);
        this.feeder = new OpFeeder(permd, catalogue, clock, (uid, category, t) -> {
            counter.served(uid, category, t);
            if (capReached(uid, category, t)) {
                replanWanted = true;
            }
        });
    }

    /** subscribe (re)loads the policy snapshot with policy.subscribe; call after every (re)connect. */
    public void subscribe() throws Exception {
        JSONObject snap = permd.call("policy.subscribe", new JSONObject());
        policy.snapshot(snap);
        counter.setZone(policy.zone());
    }

    /**
     * policyChanged applies a policy.changed notification; false means a
     * gap, and the caller must call subscribe again.
     */
    public boolean policyChanged(JSONObject params) throws Exception {
        boolean ok = policy.changed(params);
        counter.setZone(policy.zone());
        return ok;
    }

    /**
     * reapply plans from the current policy at the clock's now and makes
     * Android match; it returns the plan, whose nextMs is when to call
     * again (the glue sets an exact alarm there).
     */
    public Plan reapply() throws Exception {
        replanWanted = false;
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
