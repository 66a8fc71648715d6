package org.permd.client;

import org.json.JSONObject;

/**
 * Use is one running use of a resource started with
 * {@link PermdClient#opStart}. The client keeps it alive: it sends
 * heartbeats and, after a daemon restart, starts it again, so the
 * indicator stays truthful. Finish it with {@link PermdClient#opFinish}.
 */
public final class Use {
    final JSONObject startParams;
    volatile long id;
    volatile boolean indicated;
    volatile String ended; // null while active; else why it ended

    Use(JSONObject startParams) {
        this.startParams = startParams;
    }

    /** id is the use id permd issued in its current run. */
    public long id() {
        return id;
    }

    /** indicated says whether the resource is one the indicator shows. */
    public boolean indicated() {
        return indicated;
    }

    /**
     * ended is null while active; "finish" after opFinish; "ended_by_permd"
     * when permd ended it (max_span without heartbeat, process death).
     */
    public String ended() {
        return ended;
    }
}
