package org.permd.bridge.core;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.json.JSONException;
import org.json.JSONObject;
import org.permd.client.PermdClient;
import org.permd.client.PermdException;

/**
 * ProcStarts is the Android-independent half of the ActivityManager patch
 * that reports process starts with their caller (proc.report): it turns
 * what ActivityManager knows where it decides to start a process for a
 * component (the started app's uid and process, the hosting type of its
 * HostingRecord, the component, the calling uid and package) into
 * proc.report params, and sends them from a thread of its own. The caller
 * holds ActivityManager's lock, so started() never blocks and never does
 * I/O: a report that cannot be queued (queue full) or sent (permd
 * unreachable) is counted and the count reported with ledger.lost once
 * permd answers again, never dropped silently. Whether a start is
 * associated is permd's decision (docs/process-tracking.md); this class
 * only reports what ActivityManager saw.
 */
public final class ProcStarts {
    /** QUEUE is how many reports may wait for the sender thread. */
    public static final int QUEUE = 1000;

    private final PermdClient client;
    private final FrameworkRecords.LongSupplierMs clock;
    private final BlockingQueue<JSONObject> queue;
    private final Object lostLock = new Object();
    private long lost; // guarded by lostLock
    private final Thread sender;

    /**
     * ProcStarts reports through client, timestamped by clock, with up to
     * capacity reports waiting; it starts its sender thread.
     */
    public ProcStarts(PermdClient client, FrameworkRecords.LongSupplierMs clock, int capacity) {
        this.client = client;
        this.clock = clock;
        this.queue = new LinkedBlockingQueue<>(capacity);
        this.sender = new Thread(this::run, "permd-proc-starts");
        sender.setDaemon(true);
        sender.start();
    }

    /**
     * started reports that ActivityManager starts a process of uid (pid 0
     * when not known yet) named process for component, for the reason
     * hostingType (a HostingRecord hosting type such as "content
     * provider"), caused by callerUid (-1 when no app called) with
     * callerPackage (null when not known). Starts of non-app uids are not
     * reported: the records are about apps. It returns false when the
     * report could not be queued (it is then counted as lost).
     */
    public boolean started(int uid, int pid, String process, String hostingType, String component,
            int callerUid, String callerPackage) {
        return report(uid, pid, process, reason(hostingType), component, callerUid, callerPackage);
    }

    /**
     * activityStarted reports that ActivityManager starts a process of uid
     * named process to show the activity component, for hostingType
     * ("activity" or "top-activity"), launched by callerUid with
     * callerPackage (ActivityRecord's launchedFromUid and
     * launchedFromPackage). fromHome says the caller is the home app (the
     * launcher) and fromRecents that it is the recents screen: such a start
     * is the user's (reason launcher or recents), not another app's doing,
     * whoever the caller's uid is. It returns false when the report could
     * not be queued (it is then counted as lost).
     */
    public boolean activityStarted(int uid, int pid, String process, String hostingType, String component,
            int callerUid, String callerPackage, boolean fromHome, boolean fromRecents) {
        return report(uid, pid, process, activityReason(hostingType, fromHome, fromRecents), component,
                callerUid, callerPackage);
    }

    /**
     * serviceStarted reports that ActivityManager starts a process of uid
     * named process to run the service component, for the HostingRecord
     * trigger type triggerType ("job" when the system binds a job service,
     * "alarm", "push_message", else "unknown"), caused by callerUid with
     * callerPackage (ServiceRecord's most recent caller that started or
     * bound it). A restart after the service's process died (restart true)
     * has no caller: the last caller did not cause it, so none is named. It
     * returns false when the report could not be queued (it is then counted
     * as lost).
     */
    public boolean serviceStarted(int uid, int pid, String process, String component, String triggerType,
            boolean restart, int callerUid, String callerPackage) {
        if (restart) {
            return report(uid, pid, process, "restart", component, -1, null);
        }
        return report(uid, pid, process, serviceReason(triggerType), component, callerUid, callerPackage);
    }

    private boolean report(int uid, int pid, String process, String reason, String component,
            int callerUid, String callerPackage) {
        if (!FrameworkRecords.isAppUid(uid)) {
            return true;
        }
        JSONObject p = paramsForReason(uid, pid, process, reason, component, callerUid, callerPackage,
                clock.nowMs());
        if (!queue.offer(p)) {
            synchronized (lostLock) {
                lost++;
            }
            return false;
        }
        return true;
    }

    /** lost is the number of reports lost and not yet reported to permd. */
    public long lost() {
        synchronized (lostLock) {
            return lost;
        }
    }

    /** pending is the number of reports waiting to be sent. */
    public int pending() {
        return queue.size();
    }

    /**
     * reason maps a HostingRecord hosting type to permd's reason. The
     * daemon knows logd's spellings too; mapping here keeps a hosting type
     * a newer Android adds from failing the whole report (it becomes
     * "other", still with its caller).
     */
    public static String reason(String hostingType) {
        if (hostingType == null) {
            return "unknown";
        }
        switch (hostingType) {
            case "activity":
            case "top-activity":
            case "next-activity":
            case "next-top-activity":
                return "activity";
            case "service":
            case "started-service":
            case "bound-service":
                return "service";
            case "broadcast":
                return "broadcast";
            case "content provider":
                return "provider";
            case "backup":
                return "backup";
            case "restart":
                return "restart";
            case "added application":
            case "system":
                return "system";
            case "":
                return "unknown";
            default:
                return "other";
        }
    }

    /**
     * activityReason is permd's reason for an activity start: launcher when
     * the home app launched it, recents when the recents screen did (both
     * the user's own doing), else the hosting type's reason.
     */
    public static String activityReason(String hostingType, boolean fromHome, boolean fromRecents) {
        if (fromRecents) {
            return "recents";
        }
        if (fromHome) {
            return "launcher";
        }
        return reason(hostingType);
    }

    /**
     * serviceReason is permd's reason for a service start from the
     * HostingRecord trigger type: a job, an alarm or a push message when
     * ActivityManager knows that is what woke the service, else service.
     */
    public static String serviceReason(String triggerType) {
        if (triggerType == null) {
            return "service";
        }
        switch (triggerType) {
            case "job":
                return "job";
            case "alarm":
                return "alarm";
            case "push_message":
            case "push_message_over_quota":
                return "push";
            default:
                return "service";
        }
    }

    /**
     * params builds proc.report's params for a start of hostingType (a
     * HostingRecord hosting type), as paramsForReason does.
     */
    public static JSONObject params(int uid, int pid, String process, String hostingType,
            String component, int callerUid, String callerPackage, long timeMs) {
        return paramsForReason(uid, pid, process, reason(hostingType), component, callerUid, callerPackage,
                timeMs);
    }

    /**
     * paramsForReason builds proc.report's params with permd's reason. The
     * caller is named only when there is one (callerUid >= 0); a caller
     * that is the started app's own uid is the app itself and not named,
     * so the start is not taken for another app's.
     */
    public static JSONObject paramsForReason(int uid, int pid, String process, String reason,
            String component, int callerUid, String callerPackage, long timeMs) {
        try {
            JSONObject p = new JSONObject().put("uid", uid).put("reason", reason)
                    .put("time_ms", timeMs);
            if (pid > 0) {
                p.put("pid", pid);
            }
            if (process != null && !process.isEmpty()) {
                p.put("process", process);
            }
            if (component != null && !component.isEmpty()) {
                p.put("component", component);
            }
            if (callerUid >= 0 && callerUid != uid) {
                p.put("caller_uid", callerUid);
                if (callerPackage != null && !callerPackage.isEmpty()) {
                    p.put("caller", callerPackage);
                }
            }
            return p;
        } catch (JSONException e) {
            throw new IllegalStateException("building proc.report params: " + e.getMessage(), e);
        }
    }

    /** close stops the sender thread; reports still queued are counted as lost. */
    public void close() {
        sender.interrupt();
        try {
            sender.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (lostLock) {
            lost += queue.size();
        }
        queue.clear();
    }

    private void run() {
        while (true) {
            JSONObject p;
            try {
                p = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            try {
                client.procReport(p);
            } catch (PermdException e) {
                // permd unreachable or refused the report: counted, and
                // said once permd answers again.
                synchronized (lostLock) {
                    lost++;
                }
                continue;
            }
            reportLost();
        }
    }

    private void reportLost() {
        long n;
        synchronized (lostLock) {
            n = lost;
        }
        if (n == 0) {
            return;
        }
        try {
            client.ledgerLost(n, "proc.report: process starts not reported (queue full or permd unreachable)");
            synchronized (lostLock) {
                lost -= n;
            }
        } catch (PermdException e) {
            // Kept; tried again after the next report that gets through.
        }
    }
}
