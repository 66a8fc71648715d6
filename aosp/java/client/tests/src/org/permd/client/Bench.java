package org.permd.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import org.json.JSONObject;
import org.permd.client.jdk.UnixSocketTransport;

/**
 * Bench measures the Java client against a running permd (args: socket
 * path) and prints one JSON object per figure: perm.check over the socket
 * at 1 and 8 threads, the in-process cached check, op.start to listener
 * latency and the sys.health round trip. aosp/java/bench_test.go runs it
 * next to the Go client on the same daemon and reports the ratios.
 * The grant for uid 10123 com.example.cam camera must exist.
 */
public final class Bench {
    static final int UID = 10123;
    static final String PKG = "com.example.cam";

    private Bench() {}

    static long pct(long[] v, double p) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[Math.min(s.length - 1, (int) (s.length * p))];
    }

    static void emit(String name, long[] ns, int threads) {
        System.out.println(new JSONObject(java.util.Map.of("name", name, "threads", threads, "n", ns.length,
                "p50_ns", pct(ns, 0.50), "p99_ns", pct(ns, 0.99))));
    }

    /**
     * TimedTransport notes when each read of its connections returned, so
     * that a latency can be split at the moment the client's reader thread
     * got the bytes: before it, the sender, the daemon and the wake-up of
     * the reader; after it, the client's own decoding and hand-off.
     */
    static final class TimedTransport implements Transport {
        private final Transport inner;
        volatile long lastRead;

        TimedTransport(Transport inner) {
            this.inner = inner;
        }

        @Override
        public Connection connect() throws IOException {
            Connection c = inner.connect();
            InputStream in = c.in();
            InputStream timed = new InputStream() {
                @Override
                public int read() throws IOException {
                    int b = in.read();
                    lastRead = System.nanoTime();
                    return b;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    int n = in.read(b, off, len);
                    lastRead = System.nanoTime();
                    return n;
                }
            };
            return new Connection() {
                @Override
                public InputStream in() {
                    return timed;
                }

                @Override
                public OutputStream out() throws IOException {
                    return c.out();
                }

                @Override
                public void close() throws IOException {
                    c.close();
                }
            };
        }
    }

    interface Op {
        void run() throws Exception;
    }

    /** timed runs op n times on each of threads threads; returns every latency. */
    static long[] timed(int threads, int n, Op op) throws Exception {
        long[][] per = new long[threads][n];
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        AtomicLong failures = new AtomicLong();
        for (int t = 0; t < threads; t++) {
            final long[] mine = per[t];
            Thread th = new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < n; i++) {
                        long t0 = System.nanoTime();
                        op.run();
                        mine[i] = System.nanoTime() - t0;
                    }
                } catch (Exception e) {
                    failures.incrementAndGet();
                    e.printStackTrace();
                }
            });
            th.start();
            ts.add(th);
        }
        start.countDown();
        for (Thread th : ts) {
            th.join();
        }
        if (failures.get() > 0) {
            throw new IllegalStateException(failures.get() + " benchmark threads failed");
        }
        long[] all = new long[threads * n];
        for (int t = 0; t < threads; t++) {
            System.arraycopy(per[t], 0, all, t * n, n);
        }
        return all;
    }

    /** main runs every figure against the socket args[0]; args[1] is the call count. */
    public static void main(String[] args) throws Exception {
        UnixSocketTransport tr = new UnixSocketTransport(Paths.get(args[0]));
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 5000;
        try (PermdClient c = new PermdClient.Builder(tr).build()) {
            Op check = () -> {
                if (!c.permCheck(UID, PKG, "camera", null, "foreground").allowed()) {
                    throw new IllegalStateException("check denied: grant missing");
                }
            };
            timed(1, 4 * n, check); // warm up the JIT (C2 compiles after ~10k calls)
            emit("perm.check", timed(1, n, check), 1);
            timed(8, n / 8, check);
            emit("perm.check", timed(8, n / 2, check), 8);
        }
        // sys.health on a timed connection: the round trip, and the part of
        // it until the reader thread had the reply (the rest is the hand-off
        // to the caller and the decode).
        TimedTransport htr = new TimedTransport(tr);
        try (PermdClient c = new PermdClient.Builder(htr).build()) {
            Op health = () -> c.sysHealth(false);
            timed(1, n / 2, health);
            long[] rt = new long[n];
            long[] toRead = new long[n];
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                c.sysHealth(false);
                long t1 = System.nanoTime();
                rt[i] = t1 - t0;
                toRead[i] = htr.lastRead - t0;
            }
            emit("sys.health", rt, 1);
            emit("sys.health.read", toRead, 1);
        }

        try (PermdClient c = new PermdClient.Builder(tr).decisionCache(true).reportBuffer(1 << 16).build()) {
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!c.cacheReady() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            if (!c.cacheReady()) {
                throw new IllegalStateException("decision cache not ready");
            }
            // Batches of 1000 checks: one nanoTime pair per batch keeps the
            // clock's own cost out of a sub-microsecond figure.
            int batches = 2000;
            long[] per = new long[batches];
            for (int round = 0; round < 2; round++) {
                for (int b = 0; b < batches; b++) {
                    long t0 = System.nanoTime();
                    for (int i = 0; i < 1000; i++) {
                        CheckResult r = c.check(UID, PKG, "camera", null, "foreground");
                        if (!r.cached()) {
                            throw new IllegalStateException("check not answered by the cache: " + r);
                        }
                    }
                    per[b] = (System.nanoTime() - t0) / 1000;
                }
            }
            emit("check.cached", per, 1);
            System.err.println("cached checks: " + c.droppedReports() + " records dropped and reported as overload");
        }

        // The listener runs on the reader thread (a direct executor): the
        // figure is the library's delivery, without a hop to a UI thread.
        TimedTransport ltr = new TimedTransport(tr);
        try (PermdClient listen = new PermdClient.Builder(ltr).notificationExecutor(Runnable::run).build();
                PermdClient fw = new PermdClient.Builder(tr).build()) {
            final Object lock = new Object();
            final IndicatorSnapshot[] latest = new IndicatorSnapshot[1];
            final long[] seenAt = new long[3]; // listener done, its entry, the reader's read
            listen.subscribeIndicator(s -> {
                long entry = System.nanoTime();
                s.on("camera"); // what SystemUI would read first, timed in
                long now = System.nanoTime();
                synchronized (lock) {
                    latest[0] = s;
                    seenAt[0] = now;
                    seenAt[1] = entry;
                    seenAt[2] = ltr.lastRead;
                    lock.notifyAll();
                }
            });
            int rounds = Math.max(200, n / 10);
            long[] lat = new long[rounds];
            long[] toRead = new long[rounds];
            long[] toListener = new long[rounds];
            long[] paced = new long[rounds];
            // The first half warms the notification path up (JIT), as
            // perm.check's warm-up does; only the second half is kept.
            for (int i = -rounds; i < rounds; i++) {
                // A sys.health round trip paced as the op.start below is:
                // after an op.start/finish cycle and its notifications,
                // when the daemon's and the client's threads have gone idle
                // again (back-to-back round trips find them awake).
                long h0 = System.nanoTime();
                fw.sysHealth(false);
                if (i >= 0) {
                    paced[i] = System.nanoTime() - h0;
                }
                notifyCycle(fw, lock, latest);
                long t0 = System.nanoTime();
                Use u = fw.opStart("camera", UID, PKG, 0, null);
                synchronized (lock) {
                    while (latest[0] == null || !latest[0].on("camera")) {
                        lock.wait(5_000);
                    }
                    if (i >= 0) {
                        lat[i] = seenAt[0] - t0;
                        toRead[i] = seenAt[2] - t0;
                        toListener[i] = seenAt[1] - t0;
                    }
                }
                fw.opFinish(u);
                synchronized (lock) {
                    while (latest[0].on("camera")) {
                        lock.wait(5_000);
                    }
                }
            }
            emit("indicator.notify", lat, 1);
            emit("indicator.notify.read", toRead, 1);
            emit("indicator.notify.entry", toListener, 1);
            emit("sys.health.paced", paced, 1);
        }
    }

    /** notifyCycle starts and finishes a use and waits for both notifications. */
    static void notifyCycle(PermdClient fw, Object lock, IndicatorSnapshot[] latest) throws Exception {
        Use u = fw.opStart("camera", UID, PKG, 0, null);
        synchronized (lock) {
            while (latest[0] == null || !latest[0].on("camera")) {
                lock.wait(5_000);
            }
        }
        fw.opFinish(u);
        synchronized (lock) {
            while (latest[0].on("camera")) {
                lock.wait(5_000);
            }
        }
    }
}
