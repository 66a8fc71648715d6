package org.permd.client;

import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.json.JSONObject;
import org.permd.client.jdk.UnixSocketTransport;

/**
 * RoleProbe calls every protocol method once through the typed API and
 * prints, as one JSON object, the error code each call got (0 when it was
 * not refused). RolesTest runs it as other uids with setpriv.
 */
public final class RoleProbe {
    interface Call {
        void run(PermdClient c) throws Exception;
    }

    static Map<String, Call> calls() {
        Map<String, Call> m = new LinkedHashMap<>();
        int app = Daemon.UID_APP;
        String pkg = Daemon.PKG_CAM;
        m.put("sys.version", c -> c.sysVersion());
        m.put("sys.health", c -> c.sysHealth(false));
        m.put("ledger.report", c -> c.ledgerReport(List.of(PermdClient.obj("uid", app, "kind", "clipboard_read", "category", "clipboard"))));
        m.put("ledger.query", c -> c.ledgerQuery(null));
        m.put("ledger.summary", c -> c.ledgerSummary(null));
        m.put("ledger.timeline", c -> c.ledgerTimeline(null));
        m.put("ledger.export", c -> c.ledgerExport(null));
        m.put("ledger.verify", c -> c.ledgerVerify());
        m.put("rules.get", c -> c.rulesGet(0));
        m.put("perm.request", c -> c.permRequest(app, pkg, "camera", "en"));
        m.put("perm.decide", c -> c.permDecide(PermdClient.obj("uid", app, "package", pkg, "category", "camera",
                "time", PermdClient.obj("mode", "while_in_use"))));
        m.put("perm.check", c -> {
            CheckResult r = c.permCheck(app, pkg, "camera", null, "foreground");
            if (CheckResult.REASON_UNAVAILABLE.equals(r.reason())) {
                throw new IllegalStateException("permd unreachable");
            }
        });
        m.put("loc.fudge", c -> c.locFudge(app, pkg, 31.23, 121.47, 5));
        m.put("app.state", c -> c.appState(app, "foreground"));
        m.put("loc.offset", c -> c.locOffset(0));
        m.put("perm.android_revoked", c -> c.permAndroidRevoked(0, "com.example.maps", "sms"));
        m.put("grants.list", c -> c.grantsList(null));
        m.put("grants.get", c -> c.grantsGet(0, pkg, "camera"));
        m.put("grants.set", c -> c.grantsSet(PermdClient.obj("package", pkg, "category", "microphone",
                "time", PermdClient.obj("mode", "while_in_use"))));
        m.put("grants.revoke", c -> c.grantsRevoke(0, "com.example.maps", "sms"));
        m.put("grants.catalogue", c -> c.grantsCatalogue("en"));
        m.put("app.removed", c -> c.appRemoved(app, "com.example.gone"));
        m.put("ledger.lost", c -> c.ledgerLost(1, "role probe"));
        m.put("time.zone", c -> c.timeZone(null));
        m.put("policy.subscribe", c -> c.policySnapshot());
        m.put("op.start", c -> c.opFinish(c.opStart("camera", app, pkg, 0, null)));
        m.put("op.finish", c -> c.opFinish(new Use(new JSONObject())));
        m.put("op.heartbeat", c -> c.opHeartbeat(1));
        m.put("proc.died", c -> c.procDied(app, 4242));
        m.put("indicator.get", c -> c.indicatorGet());
        m.put("indicator.subscribe", c -> c.subscribeIndicator(s -> { }));
        m.put("proc.report", c -> c.procReport(PermdClient.obj("uid", app, "reason", "service")));
        m.put("proc.list", c -> c.procList(null));
        m.put("preinstall.status", c -> c.preinstallStatus(null));
        return m;
    }

    /** probe runs every call and returns method to code (0: not refused). */
    static JSONObject probe(PermdClient c) throws Exception {
        JSONObject out = new JSONObject();
        for (Map.Entry<String, Call> e : calls().entrySet()) {
            int code = 0;
            try {
                e.getValue().run(c);
            } catch (PermdRpcException x) {
                code = x.code();
            } catch (PermdException x) {
                code = 1; // transport trouble: never a role answer
            }
            out.put(e.getKey(), code);
        }
        return out;
    }

    /** main probes the daemon at args[0] and prints the codes. */
    public static void main(String[] args) throws Exception {
        try (PermdClient c = new PermdClient.Builder(new UnixSocketTransport(Paths.get(args[0]))).callTimeoutMs(10_000).build()) {
            JSONObject out = probe(c);
            out.put("_role", c.sysHealth(false).json().getJSONObject("you").getString("role"));
            System.out.println(out);
        }
    }
}
