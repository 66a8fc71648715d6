package framework

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"permd/framework/frameworktest/harness"
	"permd/ledger"
)

// soakDuration is how long BenchmarkSoak loads the daemon: 20 s by
// default, PERMD_SOAK (a Go duration, e.g. 10m) for the long version.
func soakDuration() (total, every time.Duration) {
	total, every = 20*time.Second, 5*time.Second
	if d, err := time.ParseDuration(os.Getenv("PERMD_SOAK")); err == nil && d > 0 {
		total, every = d, time.Minute
		if d < 2*time.Minute {
			every = d / 4
		}
	}
	return total, every
}

// rssBytes is a process's resident set size from /proc/<pid>/status.
func rssBytes(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkSoak runs a real daemon process under a mixed load for a
// bounded time (soakDuration): two reporters flooding ledger.report with
// distinct records (the worst case for open rows: none coalesce), a
// perm.check loop under a capped grant and an uncapped one, op.start /
// op.finish cycles, and a reader querying the ledger. It reports, per
// interval, the daemon's RSS and Go heap and the ledger's open rows; the
// peaks and their ratio to the idle RSS measured first in the same run;
// and how long the daemon takes to serve again after kill -9 with the
// open-row state at its largest.
func BenchmarkSoak(b *testing.B) {
	total, every := soakDuration()
	for b.Loop() {
		dir := harness.TempDir(b)
		heapLog := filepath.Join(dir, "heap")
		b.Setenv(envHeapLog, heapLog)
		d := startDaemonProc(b, dir)
		pid := d.cmd.Process.Pid
		heap := func() int64 {
			raw, _ := os.ReadFile(heapLog)
			n, _ := strconv.ParseInt(string(raw), 10, 64)
			return n
		}
		c := d.dial(b)
		ctx := context.Background()
		mustCall(b, c, "grants.set", map[string]any{"uid": 10123, "package": "com.soak.capped", "category": "camera",
			"time": map[string]any{"mode": "while_in_use"}, "frequency": map[string]any{"max": 100000, "per": "day"}}, nil)
		mustCall(b, c, "grants.set", map[string]any{"uid": 10124, "package": "com.soak.free", "category": "camera",
			"time": map[string]any{"mode": "while_in_use"}}, nil)
		time.Sleep(time.Second)
		idle := rssBytes(pid)
		b.Logf("idle: rss %.1f MiB, heap %.1f MiB", mib(idle), mib(heap()))

		stop := make(chan struct{})
		var wg sync.WaitGroup
		var reported, checks, uses, reads atomic.Int64
		loop := func(f func(i int) error) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if f(i) != nil {
						return
					}
				}
			}()
		}
		for g := range 2 {
			rc := d.dial(b)
			loop(func(i int) error {
				recs := make([]map[string]any, 200)
				for j := range recs {
					recs[j] = map[string]any{"uid": 10000 + j%50, "kind": "access", "category": "location",
						"op": fmt.Sprintf("soak:%d:%d:%d", g, i, j), "result": "allowed", "app_state": "background"}
				}
				err := rc.Call(ctx, "ledger.report", map[string]any{"records": recs}, nil)
				reported.Add(200)
				return err
			})
		}
		cc := d.dial(b)
		loop(func(i int) error {
			checks.Add(1)
			return cc.Call(ctx, "perm.check", map[string]any{"uid": 10123 + i%2, "package": []string{"com.soak.capped", "com.soak.free"}[i%2],
				"category": "camera", "state": "foreground"}, nil)
		})
		oc := d.dial(b)
		loop(func(i int) error {
			var st started
			if err := oc.Call(ctx, "op.start", map[string]any{"resource": "microphone", "uid": 10200 + i%20, "package": "com.soak.rec"}, &st); err != nil {
				return err
			}
			uses.Add(1)
			return oc.Call(ctx, "op.finish", map[string]any{"use": st.Use}, nil)
		})
		qc := d.dial(b)
		loop(func(i int) error {
			time.Sleep(100 * time.Millisecond)
			reads.Add(1)
			return qc.Call(ctx, "ledger.summary", map[string]any{"uid": 10000 + i%50}, nil)
		})

		var peakRSS, peakHeap, peakOpenBytes int64
		start := time.Now()
		for elapsed := time.Duration(0); elapsed < total; elapsed = time.Since(start) {
			time.Sleep(min(every, total-elapsed))
			var h Health
			mustCall(b, c, "sys.health", map[string]bool{"detail": true}, &h)
			lp, _ := h.Parts["ledger"].(map[string]any)
			rss, hp := rssBytes(pid), heap()
			ob, _ := lp["open_rows_bytes"].(float64)
			peakRSS, peakHeap, peakOpenBytes = max(peakRSS, rss), max(peakHeap, hp), max(peakOpenBytes, int64(ob))
			b.Logf("%4.0fs: rss %.1f MiB, heap %.1f MiB, open rows %v (%.1f MiB est.), sealed early %v; %d reported, %d checks, %d uses, %d reads",
				time.Since(start).Seconds(), mib(rss), mib(hp), lp["open_rows"], mib(int64(ob)), lp["sealed_early"],
				reported.Load(), checks.Load(), uses.Load(), reads.Load())
		}
		// Restart with the open-row state at its largest: kill -9 while
		// the flood runs, then time until the new daemon answers.
		d.kill()
		close(stop)
		wg.Wait()
		t0 := time.Now()
		d2 := startDaemonProc(b, dir)
		restart := time.Since(t0)
		var v ledger.VerifyReport
		mustCall(b, d2.dial(b), "ledger.verify", nil, &v)
		if !v.OK {
			b.Fatalf("verify after kill -9 under load: %+v", v.Problems)
		}
		d2.cmd.Process.Signal(syscall.SIGTERM)
		<-d2.exited
		b.Logf("restart after kill -9 under load: serving again in %v; %d rows verify", restart.Round(time.Millisecond), v.Rows)
		b.ReportMetric(mib(idle), "idle-rss-MiB")
		b.ReportMetric(mib(peakRSS), "peak-rss-MiB")
		b.ReportMetric(float64(peakRSS)/float64(idle), "peak/idle-rss")
		b.ReportMetric(mib(peakHeap), "peak-heap-MiB")
		b.ReportMetric(mib(peakOpenBytes), "peak-open-rows-MiB")
		b.ReportMetric(float64(restart.Milliseconds()), "restart-ms")
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
