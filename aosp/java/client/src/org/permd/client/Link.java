package org.permd.client;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.json.JSONException;
import org.json.JSONObject;

/**
 * Link is one physical connection: pipelined requests matched to replies
 * by id, one reader thread, notifications handed to a sink. When the
 * stream ends or breaks the protocol, every pending call fails with the
 * reason and the link is dead; PermdClient builds a new one.
 */
final class Link {
    /** Sink receives what the reader thread reads besides replies. */
    interface Sink {
        /** notification is called on the reader thread, in wire order. */
        void notification(Link link, String method, JSONObject params);

        /** closed is called once when the link dies. */
        void closed(Link link, PermdException why);
    }

    /** MAX_LINE bounds one reply line (an export page is a few MiB). */
    static final int MAX_LINE = 32 << 20;

    private final Transport.Connection conn;
    private final OutputStream out;
    private final InputStream in;
    private final Sink sink;
    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final Object writeLock = new Object();
    private volatile PermdException dead;
    private final Thread reader;

    static final class Pending {
        final String method;
        final CompletableFuture<Object> future = new CompletableFuture<>();

        Pending(String method) {
            this.method = method;
        }
    }

    Link(Transport.Connection conn, Sink sink, String name) throws IOException {
        this.conn = conn;
        this.out = conn.out();
        this.in = conn.in();
        this.sink = sink;
        this.reader = new Thread(this::readLoop, name);
        this.reader.setDaemon(true);
        this.reader.start();
    }

    boolean alive() {
        return dead == null;
    }

    /** send writes one request and returns its pending reply. */
    Pending send(String method, JSONObject params) throws PermdException {
        return sendRaw(method, params == null ? null : params.toString());
    }

    /**
     * sendRaw writes one request whose params are already JSON text (the
     * hot path encodes perm.check's params by hand). The envelope is
     * written directly too: it has no free text but the quoted method.
     */
    Pending sendRaw(String method, String paramsJson) throws PermdException {
        long id = ids.incrementAndGet();
        Pending p = new Pending(method);
        StringBuilder b = new StringBuilder(96 + (paramsJson == null ? 0 : paramsJson.length()));
        b.append("{\"jsonrpc\":\"2.0\",\"id\":").append(id).append(",\"method\":").append(JSONObject.quote(method));
        if (paramsJson != null) {
            b.append(",\"params\":").append(paramsJson);
        }
        b.append("}\n");
        byte[] line = b.toString().getBytes(StandardCharsets.UTF_8);
        pending.put(id, p);
        PermdException d = dead;
        if (d != null) {
            pending.remove(id);
            throw new PermdUnavailableException(method + ": " + d.getMessage(), d);
        }
        try {
            synchronized (writeLock) {
                out.write(line);
                out.flush();
            }
        } catch (IOException e) {
            pending.remove(id);
            PermdUnavailableException u = new PermdUnavailableException(method + ": write to permd failed: " + e.getMessage(), e);
            kill(u);
            throw u;
        }
        return p;
    }

    /** kill closes the link and fails every pending call with why. */
    void kill(PermdException why) {
        synchronized (this) {
            if (dead != null) {
                return;
            }
            dead = why;
        }
        try {
            conn.close();
        } catch (IOException ignored) {
            // Closing is best effort: the link is dead either way.
        }
        List<Pending> ps = new ArrayList<>(pending.values());
        pending.clear();
        for (Pending p : ps) {
            p.future.completeExceptionally(rewrap(p.method, why));
        }
        sink.closed(this, why);
    }

    private static PermdException rewrap(String method, PermdException why) {
        if (why instanceof PermdProtocolException) {
            return new PermdProtocolException(method + ": " + why.getMessage(), why);
        }
        return new PermdUnavailableException(method + ": " + why.getMessage(), why);
    }

    private void readLoop() {
        byte[] buf = new byte[64 << 10];
        ByteArrayOutputStream line = new ByteArrayOutputStream(4096);
        try {
            while (true) {
                int n = in.read(buf);
                if (n < 0) {
                    if (line.size() > 0) {
                        kill(new PermdProtocolException("permd closed the connection in the middle of a reply ("
                                + line.size() + " bytes without a newline)", null));
                    } else {
                        kill(new PermdUnavailableException("permd closed the connection", null));
                    }
                    return;
                }
                int start = 0;
                for (int i = 0; i < n; i++) {
                    if (buf[i] != '\n') {
                        continue;
                    }
                    line.write(buf, start, i - start);
                    start = i + 1;
                    byte[] b = line.toByteArray();
                    line.reset();
                    if (!dispatch(b)) {
                        return;
                    }
                }
                line.write(buf, start, n - start);
                if (line.size() > MAX_LINE) {
                    kill(new PermdProtocolException("reply line longer than " + MAX_LINE + " bytes", null));
                    return;
                }
            }
        } catch (IOException e) {
            kill(new PermdUnavailableException("read from permd failed: " + e.getMessage(), e));
        } catch (RuntimeException e) {
            kill(new PermdProtocolException("cannot handle a line from permd: " + e, e));
        }
    }

    /** dispatch handles one line; false when the link was killed. */
    private boolean dispatch(byte[] raw) {
        int len = raw.length;
        if (len > 0 && raw[len - 1] == '\r') {
            len--;
        }
        String s = new String(raw, 0, len, StandardCharsets.UTF_8);
        if (s.isEmpty()) {
            return true;
        }
        JSONObject msg;
        try {
            msg = new JSONObject(s);
        } catch (JSONException e) {
            kill(new PermdProtocolException("malformed line from permd (" + e.getMessage() + "): " + abbrev(s), e));
            return false;
        }
        if (!msg.has("id") || msg.isNull("id")) {
            String method = msg.optString("method", "");
            if (!method.isEmpty()) {
                JSONObject params = msg.optJSONObject("params");
                sink.notification(this, method, params == null ? new JSONObject() : params);
                return true;
            }
            // A reply without id: an error about the connection itself
            // (line too large, too many connections). It ends the link.
            JSONObject err = msg.optJSONObject("error");
            String why = err != null ? err.optString("message", "error") + " (code " + err.optInt("code") + ")" : abbrev(s);
            kill(new PermdUnavailableException("permd refused the connection: " + why, null));
            return false;
        }
        long id = msg.optLong("id", -1);
        Pending p = pending.remove(id);
        if (p == null) {
            kill(new PermdProtocolException("reply for unknown id: " + abbrev(s), null));
            return false;
        }
        if (msg.has("error")) {
            JSONObject err = msg.optJSONObject("error");
            if (err == null || !err.has("code")) {
                p.future.completeExceptionally(new PermdProtocolException(p.method + ": malformed error object: " + abbrev(s), null));
                return true;
            }
            p.future.completeExceptionally(new PermdRpcException(p.method, err.optInt("code"),
                    err.optString("message", ""), err.opt("data")));
        } else if (msg.has("result")) {
            p.future.complete(msg.opt("result"));
        } else {
            p.future.completeExceptionally(new PermdProtocolException(p.method + ": reply has neither result nor error: " + abbrev(s), null));
        }
        return true;
    }

    private static String abbrev(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
