package org.permd.client;

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
            Op health = () -> c.sysHealth(false);
            timed(1, n / 2, health);
            emit("sys.health", timed(1, n, health), 1);
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
        try (PermdClient listen = new PermdClient.Builder(tr).notificationExecutor(Runnable::run).build();
                PermdClient fw = new PermdClient.Builder(tr).build()) {
            final Object lock = new Object();
            final IndicatorSnapshot[] latest = new IndicatorSnapshot[1];
            final long[] seenAt = new long[1];
            listen.subscribeIndicator(s -> {
                s.on("camera"); // what SystemUI would read first, timed in
                long now = System.nanoTime();
                synchronized (lock) {
                    latest[0] = s;
                    seenAt[0] = now;
                    lock.notifyAll();
                }
            });
            int rounds = Math.max(200, n / 10);
            long[] lat = new long[rounds];
            // The first half warms the notification path up (JIT), as
            // perm.check's warm-up does; only the second half is kept.
            for (int i = -rounds; i < rounds; i++) {
                long t0 = System.nanoTime();
                Use u = fw.opStart("camera", UID, PKG, 0, null);
                synchronized (lock) {
                    while (latest[0] == null || !latest[0].on("camera")) {
                        lock.wait(5_000);
                    }
                    if (i >= 0) {
                        lat[i] = seenAt[0] - t0;
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
        }
    }
}
