package org.permd.bridge.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.json.JSONObject;

/**
 * HostPermd is a host-side PermdCalls over the JDK's unix-domain socket
 * channel: one connection, one reader thread matching replies by id and
 * queueing notifications. On a device the bridge uses the Java client's
 * LocalSocket transport instead; the wire protocol is the same.
 */
final class HostPermd implements PermdCalls, AutoCloseable {
    private final SocketChannel ch;
    private final Object writeLock = new Object();
    private final AtomicLong ids = new AtomicLong();
    private final Map<Long, CompletableFuture<JSONObject>> pending = new ConcurrentHashMap<>();
    /** notifications holds every notification in wire order: [method, params]. */
    final BlockingQueue<Object[]> notifications = new LinkedBlockingQueue<>();
    private final Thread reader;

    HostPermd(String socket) throws IOException {
        ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(UnixDomainSocketAddress.of(Path.of(socket)));
        reader = new Thread(this::readLoop, "host-permd-reader");
        reader.setDaemon(true);
        reader.start();
    }

    @Override
    public JSONObject call(String method, JSONObject params) throws Exception {
        long id = ids.incrementAndGet();
        CompletableFuture<JSONObject> f = new CompletableFuture<>();
        pending.put(id, f);
        JSONObject req = new JSONObject().put("jsonrpc", "2.0").put("id", id).put("method", method);
        if (params != null) {
            req.put("params", params);
        }
        byte[] line = (req.toString() + "\n").getBytes(StandardCharsets.UTF_8);
        // The channel's own read and write methods, not Channels streams:
        // those take the channel's blocking lock, which the reader thread
        // holds while it waits for a reply.
        ByteBuffer b = ByteBuffer.wrap(line);
        synchronized (writeLock) {
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }
        try {
            return f.get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    private void readLoop() {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer bb = ByteBuffer.allocate(65536);
        byte[] buf = bb.array();
        try {
            int n;
            while ((n = ch.read(bb.clear())) > 0) {
                for (int i = 0; i < n; i++) {
                    if (buf[i] != '\n') {
                        line.write(buf[i]);
                        continue;
                    }
                    JSONObject msg = new JSONObject(line.toString(StandardCharsets.UTF_8));
                    line.reset();
                    if (!msg.has("id") || msg.isNull("id")) {
                        notifications.add(new Object[] {msg.optString("method"), msg.optJSONObject("params")});
                        continue;
                    }
                    CompletableFuture<JSONObject> f = pending.remove(msg.getLong("id"));
                    if (f == null) {
                        continue;
                    }
                    if (msg.has("error")) {
                        JSONObject err = msg.getJSONObject("error");
                        f.completeExceptionally(new Exception(err.optString("message") + " (code " + err.optInt("code") + ")"));
                    } else {
                        Object r = msg.opt("result");
                        f.complete(r instanceof JSONObject ? (JSONObject) r : new JSONObject().put("value", r));
                    }
                }
            }
        } catch (Exception e) {
            // fall through: fail what is pending
        }
        for (CompletableFuture<JSONObject> f : pending.values()) {
            f.completeExceptionally(new IOException("permd connection closed"));
        }
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
