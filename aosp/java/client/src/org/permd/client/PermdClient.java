package org.permd.client;

import java.io.Closeable;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * PermdClient is the framework side's one connection to permd: typed
 * calls for every protocol method, pipelined and thread safe, with
 * per-call timeouts; reconnects with capped backoff and, after a daemon
 * restart, re-subscribes and starts again the uses still active here;
 * sends heartbeats for long uses; buffers reports while permd is away;
 * and, when enabled, answers most checks in process from a streamed copy
 * of the grants. See docs/java-client.md.
 */
public final class PermdClient implements Closeable {
    private static final Logger LOG = Logger.getLogger("permd.client");

    /** Builder configures a client. Only the transport is required. */
    public static final class Builder {
        private final Transport transport;
        private Executor executor; // null: one daemon thread of the client's own
        private long callTimeoutMs = 5_000;
        private long backoffMinMs = 50;
        private long backoffMaxMs = 5_000;
        private long heartbeatMs = 200_000; // max_span (10 min) / 3
        private int reportBuffer = 4096;
        private boolean failOpen;
        private boolean cache;

        /** Builder for a client on transport. */
        public Builder(Transport transport) {
            this.transport = transport;
        }

        /**
         * notificationExecutor runs listener callbacks (default: one thread
         * of the client's own, so a slow listener never stalls the reader).
         */
        public Builder notificationExecutor(Executor e) {
            this.executor = e;
            return this;
        }

        /** callTimeoutMs bounds every call without its own timeout. */
        public Builder callTimeoutMs(long ms) {
            this.callTimeoutMs = ms;
            return this;
        }

        /** backoffMs sets the reconnect backoff: min doubles up to max. */
        public Builder backoffMs(long min, long max) {
            this.backoffMinMs = min;
            this.backoffMaxMs = max;
            return this;
        }

        /** heartbeatMs is how often active uses are renewed. */
        public Builder heartbeatMs(long ms) {
            this.heartbeatMs = ms;
            return this;
        }

        /** reportBuffer bounds the records held while permd is away. */
        public Builder reportBuffer(int n) {
            this.reportBuffer = n;
            return this;
        }

        /**
         * failOpen makes checks answer allowed when permd cannot be asked.
         * The default, fail-closed, denies: a privacy control that is down
         * must not silently let every access through.
         */
        public Builder failOpen(boolean open) {
            this.failOpen = open;
            return this;
        }

        /** decisionCache enables the in-process decision cache (policy.subscribe). */
        public Builder decisionCache(boolean on) {
            this.cache = on;
            return this;
        }

        /** build starts the client; it connects in the background. */
        public PermdClient build() {
            return new PermdClient(this);
        }
    }

    private final Transport transport;
    private final Executor executor;
    private final java.util.concurrent.ExecutorService ownExecutor; // null when the caller gave one
    private final long callTimeoutMs;
    private final long backoffMinMs;
    private final long backoffMaxMs;
    private final long heartbeatMs;
    private final int reportBufferCap;
    private final boolean failOpen;
    private final boolean cacheOn;

    private final Object connectLock = new Object();
    private volatile Link link;
    private volatile boolean closed;
    private long backoff;
    private boolean reconnectScheduled;
    private final ScheduledExecutorService timer;

    private final Set<Use> uses = ConcurrentHashMap.newKeySet();
    private final PolicyCache cache;
    private final Indicator indicator = new Indicator();

    private final ArrayDeque<Object> reports = new ArrayDeque<>(); // JSONObject or Access
    private long droppedReports; // guarded by reports
    private boolean flushScheduled; // guarded by reports
    private boolean overloadRefused; // guarded by reports
    private volatile boolean cacheRefused;
    private final AtomicLong reconnects = new AtomicLong();

    private PermdClient(Builder b) {
        transport = b.transport;
        if (b.executor != null) {
            executor = b.executor;
            ownExecutor = null;
        } else {
            ownExecutor = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                Thread th = new Thread(r, "permd-client-listeners");
                th.setDaemon(true);
                return th;
            });
            executor = ownExecutor;
        }
        callTimeoutMs = b.callTimeoutMs;
        backoffMinMs = b.backoffMinMs;
        backoffMaxMs = b.backoffMaxMs;
        heartbeatMs = b.heartbeatMs;
        reportBufferCap = b.reportBuffer;
        failOpen = b.failOpen;
        cacheOn = b.cache;
        backoff = backoffMinMs;
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
            Thread th = new Thread(r, "permd-client");
            th.setDaemon(true);
            return th;
        });
        t.setRemoveOnCancelPolicy(true);
        timer = t;
        cache = new PolicyCache(this::dropLink, this::policyEvent);
        timer.scheduleWithFixedDelay(this::heartbeat, heartbeatMs, heartbeatMs, TimeUnit.MILLISECONDS);
        if (cacheOn) {
            scheduleReconnect(0);
        }
    }

    // ---- policy listeners ----

    private final List<PolicyListener> policyListeners = new CopyOnWriteArrayList<>();
    private final ArrayDeque<PolicyEvent> policyEvents = new ArrayDeque<>();
    private boolean policyDraining; // guarded by policyEvents

    /** PolicyEvent is one cache event and the listeners it is for (those registered when it happened). */
    private static final class PolicyEvent {
        final boolean snapshot;
        final JSONObject msg;
        final List<PolicyListener> to;

        PolicyEvent(boolean snapshot, JSONObject msg, List<PolicyListener> to) {
            this.snapshot = snapshot;
            this.msg = msg;
            this.to = to;
        }
    }

    /**
     * addPolicyListener makes listener follow the policy the decision
     * cache holds (see {@link PolicyListener}): it gets the current policy
     * as a snapshot now if the cache has one, else the next snapshot, and
     * every change after it. The client must have been built with
     * decisionCache(true). If permd refuses the subscription to this
     * caller's role, the listener is never called (the refusal is logged).
     */
    public void addPolicyListener(PolicyListener listener) {
        if (!cacheOn) {
            throw new IllegalStateException("policy listeners need decisionCache(true)");
        }
        // Under the cache's lock: no change can slip between the snapshot
        // handed to the new listener and the first change it gets.
        synchronized (cache) {
            policyListeners.add(listener);
            cache.current((kind, snap) -> enqueuePolicy(new PolicyEvent(true, snap, java.util.Collections.singletonList(listener))));
        }
    }

    /** removePolicyListener stops calls to listener (one already running may finish). */
    public void removePolicyListener(PolicyListener listener) {
        policyListeners.remove(listener);
    }

    /** policyEvent queues one cache event (called under the cache's lock). */
    private void policyEvent(String kind, JSONObject msg) {
        if (policyListeners.isEmpty()) {
            return;
        }
        enqueuePolicy(new PolicyEvent("snapshot".equals(kind), msg, new ArrayList<>(policyListeners)));
    }

    /** enqueuePolicy delivers events in order, off the reader thread, one at a time. */
    private void enqueuePolicy(PolicyEvent ev) {
        synchronized (policyEvents) {
            policyEvents.add(ev);
            if (policyDraining) {
                return;
            }
            policyDraining = true;
        }
        try {
            executor.execute(this::drainPolicyEvents);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            synchronized (policyEvents) {
                policyEvents.clear();
                policyDraining = false;
            }
        }
    }

    private void drainPolicyEvents() {
        while (true) {
            PolicyEvent ev;
            synchronized (policyEvents) {
                ev = policyEvents.poll();
                if (ev == null) {
                    policyDraining = false;
                    return;
                }
            }
            for (PolicyListener pl : ev.to) {
                if (!policyListeners.contains(pl)) {
                    continue; // removed meanwhile
                }
                try {
                    if (ev.snapshot) {
                        pl.onSnapshot(ev.msg);
                    } else {
                        pl.onChange(ev.msg);
                    }
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "policy listener failed: " + e, e);
                }
            }
        }
    }

    /** reconnects counts connections made after the first. */
    public long reconnects() {
        return reconnects.get();
    }

    /** linkAlive says the client holds a connection it has not seen closed (tests). */
    boolean linkAlive() {
        Link l = link;
        return l != null && l.alive();
    }

    /** cacheReady says the decision cache holds a current snapshot. */
    public boolean cacheReady() {
        return cache.ready();
    }

    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
        if (ownExecutor != null) {
            ownExecutor.shutdownNow();
        }
        Link l = link;
        if (l != null) {
            l.kill(new PermdUnavailableException("client closed", null));
        }
    }

    // ---- connection management ----

    /** needsLink says a connection must be kept even without calls. */
    private boolean needsLink() {
        synchronized (reports) {
            if (!reports.isEmpty() || droppedReports > 0) {
                return true;
            }
        }
        return (cacheOn && !cacheRefused) || !uses.isEmpty() || indicator.active();
    }

    /** live returns a connected link, connecting now if needed. */
    private Link live() throws PermdException {
        Link l = link;
        if (l != null && l.alive()) {
            return l;
        }
        synchronized (connectLock) {
            l = link;
            if (l != null && l.alive()) {
                return l;
            }
            if (closed) {
                throw new PermdUnavailableException("client closed", null);
            }
            Transport.Connection c;
            try {
                c = transport.connect();
            } catch (IOException e) {
                scheduleReconnectIfNeeded();
                throw new PermdUnavailableException("cannot connect to permd: " + e.getMessage(), e);
            }
            boolean first = link == null;
            try {
                l = new Link(c, sink, "permd-client-reader");
            } catch (IOException e) {
                try {
                    c.close();
                } catch (IOException ignored) {
                    // Already failing.
                }
                throw new PermdUnavailableException("cannot open permd streams: " + e.getMessage(), e);
            }
            link = l;
            if (!first) {
                reconnects.incrementAndGet();
            }
            synchronized (this) {
                backoff = backoffMinMs;
            }
        }
        restore(l);
        return l;
    }

    private final Link.Sink sink = new Link.Sink() {
        @Override
        public void notification(Link l, String method, JSONObject params) {
            if ("indicator.changed".equals(method)) {
                indicator.changed(l, params);
            } else if ("policy.changed".equals(method)) {
                cache.changed(l, params);
            }
        }

        @Override
        public void closed(Link l, PermdException why) {
            cache.lost(l);
            if (!closed) {
                LOG.log(Level.FINE, "permd connection ended: " + why.getMessage());
                scheduleReconnectIfNeeded();
            }
        }
    };

    private void dropLink() {
        Link l = link;
        if (l != null) {
            timer.execute(() -> l.kill(new PermdProtocolException("policy stream skipped a seq; resubscribing", null)));
        }
    }

    private void scheduleReconnectIfNeeded() {
        if (!closed && needsLink()) {
            long d;
            synchronized (this) {
                d = backoff;
                backoff = Math.min(backoffMaxMs, Math.max(backoffMinMs, backoff * 2));
            }
            scheduleReconnect(d);
        }
    }

    private void scheduleReconnect(long delayMs) {
        synchronized (this) {
            if (reconnectScheduled || closed) {
                return;
            }
            reconnectScheduled = true;
        }
        try {
            timer.schedule(() -> {
                synchronized (this) {
                    reconnectScheduled = false;
                }
                try {
                    live();
                } catch (PermdException e) {
                    // live() scheduled the next attempt with a longer backoff.
                }
            }, delayMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // Closed.
        }
    }

    /**
     * restore brings a new connection to the state the client had: uses
     * that permd forgot are started again, subscriptions renewed, reports
     * flushed. Failures here drop the link and are retried by reconnect.
     */
    private void restore(Link l) {
        try {
            if (!uses.isEmpty()) {
                restoreUses(l);
            }
            if (indicator.active()) {
                try {
                    indicator.resubscribe(l);
                } catch (PermdRpcException e) {
                    // A refusal will not change by reconnecting: say so, keep the link.
                    LOG.log(Level.SEVERE, "permd refused the indicator subscription: " + e.getMessage());
                }
            }
            if (cacheOn && !cacheRefused) {
                cache.begin(l);
                try {
                    Object snap = await(l, l.send("policy.subscribe", null), callTimeoutMs);
                    cache.snapshot(l, asObject("policy.subscribe", snap));
                } catch (PermdRpcException e) {
                    // E.g. a caller whose role may not stream the policy: every
                    // check then goes to permd, which is correct, only slower.
                    cacheRefused = e.code() == PermdRpcException.PERMISSION_DENIED;
                    LOG.log(Level.SEVERE, "permd refused policy.subscribe; checks go to permd: " + e.getMessage());
                }
            }
        } catch (PermdException e) {
            LOG.log(Level.WARNING, "permd: restoring state after connecting failed: " + e.getMessage());
            l.kill(e instanceof PermdProtocolException ? (PermdProtocolException) e
                    : new PermdUnavailableException("restore failed: " + e.getMessage(), e));
            return;
        }
        scheduleFlush(0);
    }

    private void restoreUses(Link l) throws PermdException {
        List<Use> active = new ArrayList<>(uses);
        JSONArray ids = new JSONArray();
        for (Use u : active) {
            ids.put(u.id);
        }
        try {
            JSONObject r = asObject("op.heartbeat", await(l, l.send("op.heartbeat", obj("uses", ids)), callTimeoutMs));
            markEnded(r.optJSONArray("ended"), "ended_by_permd");
            return; // same daemon run: it still has them
        } catch (PermdRpcException e) {
            if (e.code() != PermdRpcException.NOT_FOUND) {
                throw e;
            }
            // ids permd never issued: it restarted and forgot them
        }
        for (Use u : active) {
            if (u.ended != null) {
                continue;
            }
            try {
                JSONObject r = asObject("op.start", await(l, l.send("op.start", u.startParams), callTimeoutMs));
                u.id = r.optLong("use");
                u.indicated = r.optBoolean("indicated");
            } catch (PermdRpcException e) {
                // permd refuses it now (e.g. the package is gone): it ends here.
                u.ended = "refused_on_restart";
                uses.remove(u);
                LOG.log(Level.WARNING, "permd refused to restart a use: " + e.getMessage());
            }
        }
    }

    private void markEnded(JSONArray ended, String why) {
        for (int i = 0; ended != null && i < ended.length(); i++) {
            long id = ended.optLong(i);
            for (Use u : uses) {
                if (u.id == id) {
                    u.ended = why;
                    uses.remove(u);
                }
            }
        }
    }

    private void heartbeat() {
        if (uses.isEmpty()) {
            return;
        }
        try {
            Link l = live();
            JSONArray ids = new JSONArray();
            for (Use u : uses) {
                ids.put(u.id);
            }
            JSONObject r = asObject("op.heartbeat", await(l, l.send("op.heartbeat", obj("uses", ids)), callTimeoutMs));
            markEnded(r.optJSONArray("ended"), "ended_by_permd");
        } catch (PermdRpcException e) {
            if (e.code() == PermdRpcException.NOT_FOUND) {
                // permd restarted between our connects: start the uses again.
                Link l = link;
                if (l != null) {
                    l.kill(new PermdUnavailableException("permd forgot active uses; reconnecting", e));
                }
            }
        } catch (PermdException e) {
            LOG.log(Level.FINE, "permd heartbeat failed: " + e.getMessage());
        }
    }

    // ---- calls ----

    private static Object await(Link l, Link.Pending p, long timeoutMs) throws PermdException {
        try {
            return Link.decode(p.method, p.future.get(timeoutMs, TimeUnit.MILLISECONDS));
        } catch (TimeoutException e) {
            throw new PermdTimeoutException(p.method + ": no reply within " + timeoutMs + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PermdUnavailableException(p.method + ": interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof PermdException) {
                throw (PermdException) e.getCause();
            }
            throw new PermdProtocolException(p.method + ": " + e.getCause(), e.getCause());
        }
    }

    /**
     * call sends any method with params (null for none) and returns its
     * result (a JSONObject, JSONArray or plain value), within the
     * client's call timeout.
     */
    public Object call(String method, JSONObject params) throws PermdException {
        return call(method, params, callTimeoutMs);
    }

    /** call with an explicit timeout in milliseconds. */
    public Object call(String method, JSONObject params, long timeoutMs) throws PermdException {
        Link l = live();
        return await(l, l.send(method, params), timeoutMs);
    }

    private JSONObject callObject(String method, JSONObject params) throws PermdException {
        return asObject(method, call(method, params));
    }

    private static JSONObject asObject(String method, Object o) throws PermdProtocolException {
        if (o instanceof JSONObject) {
            return (JSONObject) o;
        }
        throw new PermdProtocolException(method + ": expected a JSON object result, got " + o, null);
    }

    /** obj builds a params object from key, value pairs (nulls skipped). */
    public static JSONObject obj(Object... kv) {
        JSONObject o = new JSONObject();
        try {
            for (int i = 0; i + 1 < kv.length; i += 2) {
                if (kv[i + 1] != null) {
                    o.put((String) kv[i], kv[i + 1]);
                }
            }
        } catch (JSONException e) {
            throw new IllegalArgumentException(e);
        }
        return o;
    }

    // ---- sys.* ----

    /** sysVersion returns the daemon's version and protocol number. */
    @RpcMethod("sys.version")
    public JsonResult sysVersion() throws PermdException {
        return new JsonResult(callObject("sys.version", null));
    }

    /** sysHealth returns the daemon's health; detail adds per-part figures. */
    @RpcMethod("sys.health")
    public JsonResult sysHealth(boolean detail) throws PermdException {
        return new JsonResult(callObject("sys.health", detail ? obj("detail", true) : null));
    }

    // ---- perm.* and grants ----

    /**
     * permCheck asks permd to decide one access (and record it). When
     * permd cannot be asked it answers by the failure policy: denied
     * (fail-closed, the default) or allowed (failOpen), with reason
     * {@link CheckResult#REASON_UNAVAILABLE}. A refusal by permd (bad
     * params, role) is thrown, never turned into a decision.
     */
    @RpcMethod("perm.check")
    public CheckResult permCheck(int uid, String pkg, String category, String op, String state) throws PermdRpcException {
        // The hot path: params by hand (the same object obj() would make).
        StringBuilder p = new StringBuilder(96).append("{\"uid\":").append(uid);
        field(p, "package", pkg);
        field(p, "category", category);
        field(p, "op", op);
        field(p, "state", state);
        p.append('}');
        try {
            Link l = live();
            return CheckResult.fromJson(asObject("perm.check", await(l, l.sendRaw("perm.check", p.toString()), callTimeoutMs)));
        } catch (PermdRpcException e) {
            throw e;
        } catch (PermdException e) {
            return unavailable(pkg, category, state);
        }
    }

    private static void field(StringBuilder b, String name, String v) {
        if (v != null) {
            b.append(",\"").append(name).append("\":").append(JSONObject.quote(v));
        }
    }

    private CheckResult unavailable(String pkg, String category, String state) {
        return new CheckResult(failOpen, failOpen ? "allowed" : "denied", CheckResult.REASON_UNAVAILABLE, pkg,
                category == null ? "" : category, null, null, 0, null, null, -1, state, false);
    }

    /**
     * check decides one access in process when the decision cache can
     * (a current snapshot, a named package and category, and a grant whose
     * answer needs no counter or session history), recording it through
     * the report buffer as permd would; otherwise it is {@link #permCheck}.
     */
    public CheckResult check(int uid, String pkg, String category, String op, String state) throws PermdRpcException {
        PolicyCache.View v = cache.view();
        if (v != null && pkg != null && category != null && v.categories.containsKey(category)) {
            Evaluator.Compiled g = v.grantFor(uid, pkg, category);
            CheckResult r = null;
            if (g == null) {
                r = new CheckResult(false, "denied", "no_grant", pkg, category, null, null, 0, null, null, -1, state, true);
            } else if (!Evaluator.needsDaemon(g) && (state != null || g.deny || g.background)
                    && (v.zone != null || !Evaluator.needsZone(g))) {
                r = Evaluator.decide(g, Instant.now(), v.zone, state, 0, true);
            }
            if (r != null) {
                recordAccess(uid, op, r);
                return r;
            }
        }
        return permCheck(uid, pkg, category, op, state);
    }

    /**
     * hasGrant says from the decision cache whether permd holds a grant
     * for uid's user, pkg and category: 1 yes, 0 no, -1 unknown (the cache
     * is not ready). Nothing is asked or recorded. The at-access hook uses
     * it to leave accesses without a permd grant to Android, unrecorded by
     * the hook, so the bridge records them once with Android's result.
     */
    public int hasGrant(int uid, String pkg, String category) {
        PolicyCache.View v = cache.view();
        if (v == null) {
            return -1;
        }
        return pkg != null && v.grantFor(uid, pkg, category) != null ? 1 : 0;
    }

    /**
     * radiusFor returns the coarsening radius in metres that permd's grant
     * gives uid/pkg for category, read from the decision cache: 0 for full
     * precision, the level's radius (or the grant's custom radius) for a
     * radius level, and -1 when the cache cannot tell (not ready, no grant,
     * a denial, a level of another effect). Nothing is recorded: it is for
     * the location precision patch, which shapes fixes whose access AppOps
     * already notes (and the bridge records); whether the access is allowed
     * at all is perm.check's and the at-access hook's business.
     */
    public int radiusFor(int uid, String pkg, String category) {
        PolicyCache.View v = cache.view();
        if (v == null || pkg == null) {
            return -1;
        }
        Evaluator.Compiled g = v.grantFor(uid, pkg, category);
        if (g == null || g.deny || g.opaque || g.level == null) {
            return -1;
        }
        switch (g.level.effect) {
            case "full":
                return 0;
            case "radius":
                return g.radiusM;
            default:
                return -1;
        }
    }

    /**
     * Access is the record of one cached decision, kept as plain fields
     * until the flush turns it into JSON: the hot path builds no JSON.
     */
    private static final class Access {
        final long timeMs;
        final int uid;
        final String op;
        final CheckResult r;

        Access(long timeMs, int uid, String op, CheckResult r) {
            this.timeMs = timeMs;
            this.uid = uid;
            this.op = op;
            this.r = r;
        }

        /** json is the record as perm.check would have written it. */
        JSONObject json() {
            return obj("time_ms", timeMs, "uid", uid, "kind", "access", "category", r.category,
                    "op", op == null || op.isEmpty() ? null : op, "result", r.result,
                    "app_state", r.appState.isEmpty() ? null : r.appState,
                    "detail", obj("reason", r.level.isEmpty() || "full".equals(r.effect) ? r.reason : r.reason + ":" + r.level));
        }
    }

    private void recordAccess(int uid, String op, CheckResult r) {
        enqueue(new Access(System.currentTimeMillis(), uid, op, r));
    }

    /** permRequest asks whether to show the consent dialog, and what it offers. */
    @RpcMethod("perm.request")
    public JsonResult permRequest(int uid, String pkg, String category, String lang) throws PermdException {
        return new JsonResult(callObject("perm.request", obj("uid", uid, "package", pkg, "category", category, "lang", lang)));
    }

    /** permDecide records the user's choice in the dialog (params as in docs/protocol.md). */
    @RpcMethod("perm.decide")
    public Grant permDecide(JSONObject params) throws PermdException {
        return new Grant(callObject("perm.decide", params).optJSONObject("grant"));
    }

    /** locFudge coarsens a fix to the app's granted precision. */
    @RpcMethod("loc.fudge")
    public JsonResult locFudge(int uid, String pkg, double lat, double lon, double accuracyM) throws PermdException {
        return new JsonResult(callObject("loc.fudge", obj("uid", uid, "package", pkg, "lat", lat, "lon", lon, "accuracy_m", accuracyM)));
    }

    /**
     * locOffset returns a user's secret location offset ({user, x, y,
     * next_ms}) for coarsening fixes in-process exactly as loc.fudge does;
     * only system_server among framework callers gets it.
     */
    @RpcMethod("loc.offset")
    public JsonResult locOffset(int user) throws PermdException {
        return new JsonResult(callObject("loc.offset", obj("user", user)));
    }

    /**
     * permAndroidRevoked reports that Android's own permission state for
     * an app's category was revoked (Settings, pm revoke), so permd ends its
     * allow grant too; it returns the ended grant.
     */
    @RpcMethod("perm.android_revoked")
    public Grant permAndroidRevoked(int user, String pkg, String category) throws PermdException {
        return new Grant(callObject("perm.android_revoked", obj("user", user, "package", pkg, "category", category))
                .optJSONObject("revoked"));
    }

    /** appState reports an app's state change (foreground, visible, background, not_running). */
    @RpcMethod("app.state")
    public void appState(int uid, String state) throws PermdException {
        callObject("app.state", obj("uid", uid, "state", state));
    }

    /** grantsList lists current grants; filters may be null. */
    @RpcMethod("grants.list")
    public List<Grant> grantsList(JSONObject filters) throws PermdException {
        JSONArray a = callObject("grants.list", filters).optJSONArray("grants");
        List<Grant> out = new ArrayList<>();
        for (int i = 0; a != null && i < a.length(); i++) {
            out.add(new Grant(a.optJSONObject(i)));
        }
        return out;
    }

    /** grantsGet returns one grant (json "grant" may be null) and its history. */
    @RpcMethod("grants.get")
    public JsonResult grantsGet(int user, String pkg, String category) throws PermdException {
        return new JsonResult(callObject("grants.get", obj("user", user, "package", pkg, "category", category)));
    }

    /** grantsSet replaces the grant for its key. */
    @RpcMethod("grants.set")
    public Grant grantsSet(JSONObject grant) throws PermdException {
        return new Grant(callObject("grants.set", grant).optJSONObject("grant"));
    }

    /** grantsRevoke removes a grant; the next check is denied. */
    @RpcMethod("grants.revoke")
    public Grant grantsRevoke(int user, String pkg, String category) throws PermdException {
        return new Grant(callObject("grants.revoke", obj("user", user, "package", pkg, "category", category)).optJSONObject("revoked"));
    }

    /**
     * appRemoved tells permd a package was removed for the user of uid
     * (ACTION_PACKAGE_FULLY_REMOVED, or ACTION_PACKAGE_REMOVED without
     * EXTRA_REPLACING): that user's grants for it are revoked, as for an
     * uninstall. Returns how many grants were revoked.
     */
    @RpcMethod("app.removed")
    public int appRemoved(int uid, String pkg) throws PermdException {
        JSONArray revoked = callObject("app.removed", obj("uid", uid, "package", pkg)).optJSONArray("revoked");
        return revoked == null ? 0 : revoked.length();
    }

    /**
     * timeZone tells permd the device's time zone changed
     * (ACTION_TIMEZONE_CHANGED; an IANA name such as Asia/Shanghai) and
     * returns the zone now in force; null only asks for it. Daily windows
     * and per-day caps follow it from the next decision.
     */
    @RpcMethod("time.zone")
    public String timeZone(String zone) throws PermdException {
        return callObject("time.zone", obj("zone", zone)).optString("zone");
    }

    /** grantsCatalogue returns the catalogue; lang null for every language. */
    @RpcMethod("grants.catalogue")
    public JsonResult grantsCatalogue(String lang) throws PermdException {
        return new JsonResult(callObject("grants.catalogue", obj("lang", lang)));
    }

    /**
     * policySnapshot calls policy.subscribe and returns the snapshot (the
     * decision cache subscribes by itself when enabled in the builder; this
     * is for tools and tests). Changes then arrive on this connection and
     * are ignored unless the cache is on.
     */
    @RpcMethod("policy.subscribe")
    public JsonResult policySnapshot() throws PermdException {
        return new JsonResult(callObject("policy.subscribe", null));
    }

    // ---- op.*, proc.died, indicator ----

    /**
     * opStart reports that a use of resource began. The client keeps the
     * use alive until {@link #opFinish}: heartbeats, and a new op.start
     * after a daemon restart.
     */
    @RpcMethod("op.start")
    public Use opStart(String resource, int uid, String pkg, int pid, String op) throws PermdException {
        JSONObject p = obj("resource", resource, "uid", uid, "package", pkg, "pid", pid > 0 ? pid : null, "op", op);
        Use u = new Use(p);
        JSONObject r = callObject("op.start", p);
        u.id = r.optLong("use");
        u.indicated = r.optBoolean("indicated");
        uses.add(u);
        return u;
    }

    /**
     * opFinish ends a use. It is forgotten here first, so it is never
     * started again; if permd is unreachable the finish is not retried
     * (permd ends the use by itself after max_span without heartbeat).
     */
    @RpcMethod("op.finish")
    public void opFinish(Use u) throws PermdException {
        if (!uses.remove(u) && u.ended != null) {
            return; // finished here already
        }
        u.ended = "finish";
        try {
            callObject("op.finish", obj("use", u.id));
        } catch (PermdRpcException e) {
            if (e.code() != PermdRpcException.NOT_FOUND && e.code() != PermdRpcException.CONFLICT) {
                throw e;
            }
            // permd already ended it (restart, timeout, death): nothing to undo.
        }
    }

    /** opHeartbeat renews uses by id (the client does this by itself for its own uses). */
    @RpcMethod("op.heartbeat")
    public JsonResult opHeartbeat(long... ids) throws PermdException {
        JSONArray a = new JSONArray();
        for (long id : ids) {
            a.put(id);
        }
        return new JsonResult(callObject("op.heartbeat", obj("uses", a)));
    }

    /** procDied ends the uses of a dead process (pid 0: every process of uid). */
    @RpcMethod("proc.died")
    public int procDied(int uid, int pid) throws PermdException {
        return callObject("proc.died", obj("uid", uid, "pid", pid > 0 ? pid : null)).optInt("ended");
    }

    /** indicatorGet returns the indicator state now. */
    @RpcMethod("indicator.get")
    public IndicatorSnapshot indicatorGet() throws PermdException {
        JSONObject s = callObject("indicator.get", null);
        return new IndicatorSnapshot(s, s.optLong("seq"));
    }

    /**
     * subscribeIndicator adds a listener and returns the current state. The
     * listener then gets every newer snapshot on the executor, with a seq
     * that never goes backwards, across reconnects and daemon restarts.
     */
    @RpcMethod("indicator.subscribe")
    public IndicatorSnapshot subscribeIndicator(IndicatorListener listener) throws PermdException {
        Link l = live();
        return indicator.add(l, listener);
    }

    /** removeIndicatorListener stops deliveries to listener. */
    public void removeIndicatorListener(IndicatorListener listener) {
        indicator.remove(listener);
    }

    // ---- process tracking, preinstall ----

    /** procReport reports a process start system_server caused. */
    @RpcMethod("proc.report")
    public void procReport(JSONObject start) throws PermdException {
        callObject("proc.report", start);
    }

    /** procList returns the process table; filters may be null. */
    @RpcMethod("proc.list")
    public JsonResult procList(JSONObject filters) throws PermdException {
        return new JsonResult(callObject("proc.list", filters));
    }

    /** preinstallStatus returns the last preinstall audit; filters may be null. */
    @RpcMethod("preinstall.status")
    public JsonResult preinstallStatus(JSONObject filters) throws PermdException {
        return new JsonResult(callObject("preinstall.status", filters));
    }

    // ---- ledger ----

    /**
     * ledgerReport sends records and returns once permd committed them:
     * an acknowledged record is durable. Use {@link #reportAsync} when the
     * caller must not wait.
     */
    @RpcMethod("ledger.report")
    public int ledgerReport(Collection<JSONObject> records) throws PermdException {
        return callObject("ledger.report", obj("records", new JSONArray(records))).optInt("committed");
    }

    /**
     * ledgerLost tells permd this caller dropped records it could not hand
     * over; permd writes the overload row itself, naming the caller. The
     * client does this by itself for its own report buffer.
     */
    @RpcMethod("ledger.lost")
    public long ledgerLost(long dropped, String reason) throws PermdException {
        return callObject("ledger.lost", obj("dropped", dropped, "reason", reason)).optLong("recorded");
    }

    /** ledgerQuery returns one page of events, newest first. */
    @RpcMethod("ledger.query")
    public JsonResult ledgerQuery(JSONObject filters) throws PermdException {
        return new JsonResult(callObject("ledger.query", filters));
    }

    /** ledgerSummary returns per app and category counts for a privacy page. */
    @RpcMethod("ledger.summary")
    public JsonResult ledgerSummary(JSONObject filters) throws PermdException {
        return new JsonResult(callObject("ledger.summary", filters));
    }

    /** ledgerTimeline returns counts per hour or day. */
    @RpcMethod("ledger.timeline")
    public JsonResult ledgerTimeline(JSONObject filters) throws PermdException {
        return new JsonResult(callObject("ledger.timeline", filters));
    }

    /** ledgerExport returns one page of the record with hashes, oldest first. */
    @RpcMethod("ledger.export")
    public JsonResult ledgerExport(JSONObject filters) throws PermdException {
        return new JsonResult(callObject("ledger.export", filters));
    }

    /** ledgerVerify recomputes the hash chains. */
    @RpcMethod("ledger.verify")
    public JsonResult ledgerVerify() throws PermdException {
        return new JsonResult(callObject("ledger.verify", null));
    }

    /** rulesGet returns the recording rules in force (version 0) or of a version. */
    @RpcMethod("rules.get")
    public JsonResult rulesGet(int version) throws PermdException {
        return new JsonResult(callObject("rules.get", version > 0 ? obj("version", version) : null));
    }

    // ---- buffered reports ----

    /**
     * reportAsync queues a record for ledger.report and returns at once.
     * While permd is unreachable up to reportBuffer records wait; beyond
     * that new ones are dropped and counted, and the count is reported as
     * an overload record as soon as permd is back: never silently.
     */
    public void reportAsync(JSONObject record) {
        enqueue(record);
    }

    private void enqueue(Object record) {
        boolean first;
        synchronized (reports) {
            first = reports.isEmpty();
            if (reports.size() >= reportBufferCap) {
                droppedReports++;
            } else {
                reports.addLast(record);
            }
        }
        if (first) {
            scheduleFlush(20);
        }
    }

    /** pendingReports is the number of records waiting to be sent. */
    public int pendingReports() {
        synchronized (reports) {
            return reports.size();
        }
    }

    /** droppedReports is the number dropped and not yet reported as overload. */
    public long droppedReports() {
        synchronized (reports) {
            return droppedReports;
        }
    }

    private void scheduleFlush(long delayMs) {
        synchronized (reports) {
            if (flushScheduled || closed) {
                return;
            }
            flushScheduled = true;
        }
        try {
            timer.schedule(this::flush, delayMs, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // Closed.
        }
    }

    private void flush() {
        synchronized (reports) {
            flushScheduled = false;
        }
        while (true) {
            List<Object> batch = new ArrayList<>();
            long dropped;
            synchronized (reports) {
                while (batch.size() < 200 && !reports.isEmpty()) {
                    batch.add(reports.pollFirst());
                }
                dropped = overloadRefused ? 0 : droppedReports;
            }
            if (batch.isEmpty() && dropped == 0) {
                return;
            }
            try {
                Link l = live();
                if (dropped > 0) {
                    // permd writes the overload row itself (ledger.lost),
                    // naming this client as it identified it.
                    JSONObject lost = obj("dropped", dropped, "reason", "client report buffer full while permd was unreachable");
                    try {
                        await(l, l.send("ledger.lost", lost), callTimeoutMs);
                        synchronized (reports) {
                            droppedReports -= dropped;
                        }
                    } catch (PermdRpcException e) {
                        // An older permd without ledger.lost: the count stays
                        // visible in droppedReports() and the log, and the
                        // other records still go out.
                        overloadRefused = true;
                        LOG.log(Level.SEVERE, "permd refused the overload record for " + dropped + " dropped reports: " + e.getMessage());
                    }
                }
                if (!batch.isEmpty()) {
                    JSONArray recs = new JSONArray();
                    for (Object o : batch) {
                        recs.put(o instanceof Access ? ((Access) o).json() : o);
                    }
                    try {
                        await(l, l.send("ledger.report", obj("records", recs)), callTimeoutMs);
                    } catch (PermdRpcException e) {
                        // One bad record rejects the batch: these are lost, and counted.
                        LOG.log(Level.WARNING, "permd refused " + batch.size() + " buffered records: " + e.getMessage());
                        synchronized (reports) {
                            droppedReports += batch.size();
                        }
                    }
                }
            } catch (PermdException e) {
                synchronized (reports) {
                    for (int i = batch.size() - 1; i >= 0; i--) {
                        reports.addFirst(batch.get(i));
                    }
                    while (reports.size() > reportBufferCap) {
                        reports.pollLast();
                        droppedReports++;
                    }
                }
                return; // the reconnect flushes again
            }
        }
    }

    // ---- indicator subscription state ----

    /**
     * Indicator tracks indicator listeners and maps daemon seqs to a
     * client seq that never goes backwards: after a daemon restart permd
     * counts from a low seq again, so an offset lifts it above the last
     * one delivered.
     */
    private final class Indicator {
        private final List<Slot> slots = new CopyOnWriteArrayList<>();
        private Link link; // the link whose subscription is current
        private boolean ready; // its subscribe reply was handled
        private JSONObject early; // newest notification before the reply
        private long offset;
        private long last;

        boolean active() {
            return !slots.isEmpty();
        }

        IndicatorSnapshot add(Link l, IndicatorListener listener) throws PermdException {
            Slot s = new Slot(listener);
            synchronized (this) {
                slots.add(s);
                if (link == l && ready && latest != null) {
                    return latest;
                }
            }
            try {
                resubscribe(l);
            } catch (PermdException e) {
                slots.remove(s);
                throw e;
            }
            synchronized (this) {
                return latest;
            }
        }

        void remove(IndicatorListener listener) {
            slots.removeIf(s -> s.listener == listener);
        }

        private IndicatorSnapshot latest;

        void resubscribe(Link l) throws PermdException {
            synchronized (this) {
                if (link == l && ready) {
                    return;
                }
                link = l;
                ready = false;
                early = null;
            }
            JSONObject snap = asObject("indicator.subscribe", await(l, l.send("indicator.subscribe", null), callTimeoutMs));
            synchronized (this) {
                if (link != l) {
                    return;
                }
                long d = snap.optLong("seq");
                if (offset + d <= last) {
                    offset = last + 1 - d; // new daemon run (or nothing new): lift above the last seq
                }
                deliverLocked(snap, d);
                ready = true;
                if (early != null && early.optLong("seq") > d) {
                    deliverLocked(early, early.optLong("seq"));
                }
                early = null;
            }
        }

        synchronized void changed(Link l, JSONObject params) {
            if (l != link) {
                return;
            }
            if (!ready) {
                if (early == null || params.optLong("seq") > early.optLong("seq")) {
                    early = params;
                }
                return;
            }
            deliverLocked(params, params.optLong("seq"));
        }

        private void deliverLocked(JSONObject snap, long daemonSeq) {
            long seq = offset + daemonSeq;
            if (seq <= last) {
                return;
            }
            last = seq;
            IndicatorSnapshot s = new IndicatorSnapshot(snap, seq);
            latest = s;
            for (Slot slot : slots) {
                slot.offer(s);
            }
        }
    }

    /** Slot delivers to one listener: at most one task queued, latest wins. */
    private final class Slot {
        final IndicatorListener listener;
        private IndicatorSnapshot next;
        private boolean scheduled;

        Slot(IndicatorListener listener) {
            this.listener = listener;
        }

        void offer(IndicatorSnapshot s) {
            synchronized (this) {
                next = s;
                if (scheduled) {
                    return;
                }
                scheduled = true;
            }
            executor.execute(this::run);
        }

        private void run() {
            while (true) {
                IndicatorSnapshot s;
                synchronized (this) {
                    s = next;
                    next = null;
                    if (s == null) {
                        scheduled = false;
                        return;
                    }
                }
                try {
                    listener.onIndicator(s);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "indicator listener threw", e);
                }
            }
        }
    }
}
