// Package java holds the benchmark that compares the Java client library
// (aosp/java/client) with the Go client on one daemon; the library itself
// is Java, built and tested by aosp/java/run-tests.sh.
package java

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"permd/framework/client"
	"permd/framework/frameworktest/harness"
)

// startDaemon runs the permd binary (PERMD_BIN) as its own process, as on
// a device: both clients then reach it across processes. An in-process
// daemon would favour the Go client, whose socket peer would share its
// scheduler. The config is the shipped one with no indicator hold, so
// the notification round can toggle quickly.
func startDaemon(b *testing.B) string {
	bin := os.Getenv("PERMD_BIN")
	if bin == "" {
		b.Skip("PERMD_BIN is set by make bench-java")
	}
	dir := b.TempDir()
	cfg := filepath.Join(dir, "config")
	if err := os.CopyFS(cfg, os.DirFS("../etc/permd")); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg, "indicator.json"), []byte(`{"version":1,"hold":"0s"}`), 0o644); err != nil {
		b.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "root"), 0o755)
	socket := filepath.Join(dir, "permd.sock")
	cmd := exec.Command(bin, "--root="+filepath.Join(dir, "root"), "--data-dir="+filepath.Join(dir, "data"),
		"--config-dir="+cfg, "--socket="+socket, "--log-level=warn")
	var logs harness.Buffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	harness.WaitListening(b, socket, 20*time.Second, &logs)
	return socket
}

type figure struct {
	Name    string `json:"name"`
	Threads int    `json:"threads"`
	N       int    `json:"n"`
	P50     int64  `json:"p50_ns"`
	P99     int64  `json:"p99_ns"`
}

// goChecks measures perm.check through the Go client: threads goroutines
// sharing one connection, as the Java client shares one.
func goChecks(b *testing.B, c *client.Client, method string, params any, threads, n int) figure {
	lat := make([]time.Duration, threads*n)
	var wg sync.WaitGroup
	for t := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				t0 := time.Now()
				if err := c.Call(context.Background(), method, params, nil); err != nil {
					b.Error(err)
					return
				}
				lat[t*n+i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	slices.Sort(lat)
	return figure{Name: method, Threads: threads, N: len(lat), P50: int64(lat[len(lat)/2]), P99: int64(lat[len(lat)*99/100])}
}

// goNotify measures the Go client the way Bench.java measures the Java
// one, on its own two connections: from just before a framework client's
// op.start to a subscriber having decoded the snapshot that shows the
// camera on, with the op.finish and its "off" in between rounds; and the
// sys.health round trip on the subscriber's connection. The first half
// of the rounds warms up.
func goNotify(b *testing.B, socket string, rounds int) (notify, health figure) {
	ctx := context.Background()
	sub, err := client.Dial(ctx, socket)
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	fw, err := client.Dial(ctx, socket)
	if err != nil {
		b.Fatal(err)
	}
	defer fw.Close()
	type seen struct {
		on bool
		at time.Time
	}
	ch := make(chan seen, 1<<12)
	go func() {
		for n := range sub.Notifications() {
			var snap struct {
				Resources []struct {
					Resource string `json:"resource"`
					On       bool   `json:"on"`
				} `json:"resources"`
			}
			if json.Unmarshal(n.Params, &snap) != nil {
				continue
			}
			on := false
			for _, r := range snap.Resources {
				if r.Resource == "camera" {
					on = r.On
				}
			}
			ch <- seen{on, time.Now()}
		}
	}()
	if err := sub.Call(ctx, "indicator.subscribe", nil, nil); err != nil {
		b.Fatal(err)
	}
	await := func(on bool) time.Time {
		timeout := time.After(10 * time.Second)
		for {
			select {
			case s := <-ch:
				if s.on == on {
					return s.at
				}
			case <-timeout:
				b.Fatalf("the Go subscriber did not see camera on=%v within 10s", on)
			}
		}
	}
	lat := make([]time.Duration, 0, rounds)
	for i := -rounds; i < rounds; i++ {
		t0 := time.Now()
		var st struct{ Use uint64 }
		if err := fw.Call(ctx, "op.start", map[string]any{"resource": "camera", "uid": 10123, "package": "com.example.cam"}, &st); err != nil {
			b.Fatal(err)
		}
		at := await(true)
		if i >= 0 {
			lat = append(lat, at.Sub(t0))
		}
		if err := fw.Call(ctx, "op.finish", map[string]any{"use": st.Use}, nil); err != nil {
			b.Fatal(err)
		}
		await(false)
	}
	slices.Sort(lat)
	notify = figure{Name: "indicator.notify", Threads: 1, N: len(lat), P50: int64(lat[len(lat)/2]), P99: int64(lat[len(lat)*99/100])}
	goChecks(b, sub, "sys.health", nil, 1, 2*rounds) // warm up
	return notify, goChecks(b, sub, "sys.health", nil, 1, 4*rounds)
}

// BenchmarkJavaClient runs the Java benchmarks (org.permd.client.Bench)
// against a permd process and, on the same daemon in the same run,
// the Go client: perm.check p50/p99 at 1 and 8 threads (target: Java p50
// at most 1.2x Go), the Java cached check (target p50 <= 1 us) and
// op.start to Java listener latency (target p50 <= the sys.health round
// trip). make bench-java builds the classes and sets PERMD_JAVA_CLASSPATH.
func BenchmarkJavaClient(b *testing.B) {
	cp := os.Getenv("PERMD_JAVA_CLASSPATH")
	if cp == "" {
		b.Skip("the Java classes are built by make bench-java (aosp/java/run-tests.sh bench)")
	}
	socket := startDaemon(b)
	c, err := client.Dial(context.Background(), socket)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	grant := map[string]any{"package": "com.example.cam", "category": "camera", "time": map[string]any{"mode": "while_in_use"}}
	if err := c.Call(context.Background(), "grants.set", grant, nil); err != nil {
		b.Fatal(err)
	}
	const n = 5000
	check := map[string]any{"uid": 10123, "package": "com.example.cam", "category": "camera", "state": "foreground"}
	for range b.N {
		goChecks(b, c, "perm.check", check, 1, n/2) // warm up
		gof := []figure{goChecks(b, c, "perm.check", check, 1, n), goChecks(b, c, "perm.check", check, 8, n/2)}
		goNote, goHealth := goNotify(b, socket, max(200, n/10))

		cmd := exec.Command("java", "-cp", cp, "org.permd.client.Bench", socket, fmt.Sprint(n))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("java bench: %v\n%s", err, stderr.String())
		}
		java := map[string]figure{}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			var f figure
			if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
				b.Fatalf("java bench line %q: %v", sc.Text(), err)
			}
			java[fmt.Sprintf("%s/%d", f.Name, f.Threads)] = f
		}
		for _, g := range gof {
			j := java[fmt.Sprintf("perm.check/%d", g.Threads)]
			b.Logf("perm.check %d thread(s): Go p50 %v p99 %v | Java p50 %v p99 %v | Java/Go p50 %.2f",
				g.Threads, time.Duration(g.P50), time.Duration(g.P99), time.Duration(j.P50), time.Duration(j.P99), float64(j.P50)/float64(g.P50))
			b.ReportMetric(float64(j.P50)/float64(g.P50), fmt.Sprintf("java/go-p50-%dt", g.Threads))
			b.ReportMetric(float64(j.P50)/1e3, fmt.Sprintf("java-p50-us-%dt", g.Threads))
			b.ReportMetric(float64(g.P50)/1e3, fmt.Sprintf("go-p50-us-%dt", g.Threads))
		}
		cached := java["check.cached/1"]
		b.Logf("Java cached check: p50 %d ns p99 %d ns (batches of 1000)", cached.P50, cached.P99)
		b.ReportMetric(float64(cached.P50), "java-cached-p50-ns")
		note, health := java["indicator.notify/1"], java["sys.health/1"]
		b.Logf("op.start -> Java listener p50 %v p99 %v | Java sys.health round trip p50 %v | ratio %.2f",
			time.Duration(note.P50), time.Duration(note.P99), time.Duration(health.P50), float64(note.P50)/float64(health.P50))
		b.ReportMetric(float64(note.P50)/float64(health.P50), "notify/health-p50")
		// The same ratio against round trips paced as the op.starts are
		// (each after an op.start/finish cycle): back-to-back round trips
		// find the daemon's and the client's threads still awake.
		paced := java["sys.health.paced/1"]
		b.Logf("op.start -> Java listener p50 %v | Java sys.health round trip paced as the op.starts p50 %v p99 %v | ratio %.2f",
			time.Duration(note.P50), time.Duration(paced.P50), time.Duration(paced.P99), float64(note.P50)/float64(paced.P50))
		b.ReportMetric(float64(note.P50)/float64(paced.P50), "notify/paced-health-p50")
		// Where the Java time goes: until the listener's reader thread
		// had the bytes (sender, daemon, wake-up), then until the listener
		// ran (line decode and delivery); the round trip split the same way.
		nr, ne, hr := java["indicator.notify.read/1"], java["indicator.notify.entry/1"], java["sys.health.read/1"]
		b.Logf("Java stages p50: op.start -> reader has the notification %v, -> listener entered %v, -> listener done %v | sys.health -> reader has the reply %v, -> caller has the result %v",
			time.Duration(nr.P50), time.Duration(ne.P50), time.Duration(note.P50), time.Duration(hr.P50), time.Duration(health.P50))
		b.Logf("Go, same run, same way: op.start -> subscriber decoded p50 %v p99 %v | sys.health round trip p50 %v | ratio %.2f",
			time.Duration(goNote.P50), time.Duration(goNote.P99), time.Duration(goHealth.P50), float64(goNote.P50)/float64(goHealth.P50))
		b.ReportMetric(float64(goNote.P50)/float64(goHealth.P50), "go-notify/health-p50")
		if stderr.Len() > 0 {
			b.Log(stderr.String())
		}
	}
}
