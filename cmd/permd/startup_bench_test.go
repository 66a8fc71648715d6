package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"permd/aosp/etc"
	"permd/aosp/testclock"
	"permd/framework/client"
	"permd/framework/frameworktest/harness"
	"permd/ledger"
	"permd/ledger/store"
)

// BenchmarkStartup execs the real permd binary on a copy of a 1 M-row
// ledger (PERMD_BENCH_STARTUP_ROWS) and on an empty one, turn about,
// PERMD_BENCH_STARTS times each (default 7), and reports how long from
// exec until the socket accepts a connection (listen) and until it
// answers sys.health (health): p50 and max of each, and the ratio of the
// large ledger's p50 to the empty one's. A third case is the large
// ledger after kill -9 under load (crashedLedger): start-up must seal
// the rows the crash left open and record the uses it left in progress
// before it serves. Both SQLite drivers are measured
// when the build allows (mattn needs cgo and a C compiler).
//
// The ledger is written by the real writer (ledger.Append, default
// rules) and then opened once by permd, so that it holds every
// component's schema as a daemon leaves it; it is cached in the temp dir
// (make bench-clean removes it). The file is in the page cache when
// permd starts: this measures the daemon's own work, not a cold flash.
func BenchmarkStartup(b *testing.B) {
	rows := envInt("PERMD_BENCH_STARTUP_ROWS", 1_000_000)
	starts := envInt("PERMD_BENCH_STARTS", 7)
	dir := b.TempDir()
	type driver struct{ name, cgo string }
	for _, d := range []driver{{"mattn", "1"}, {"modernc", "0"}} {
		b.Run(d.name, func(b *testing.B) {
			exe := filepath.Join(dir, "permd-"+d.name)
			if out, err := buildPermd(exe, d.cgo); err != nil {
				if d.cgo == "1" {
					b.Skipf("SKIP: cannot build permd with cgo (mattn driver): %v\n%s", err, out)
				}
				b.Fatalf("build permd: %v\n%s", err, out)
			}
			full := startupLedger(b, exe, rows)
			empty := primedLedger(b, exe, filepath.Join(dir, "empty-"+d.name), "")
			// The embedded config gives uid 0 the role that may report
			// records; another uid cannot make the crashed ledger.
			crashed := ""
			if os.Getuid() == 0 {
				crashed = crashedLedger(b, exe, filepath.Join(dir, "crashed-"+d.name), full)
			} else {
				b.Logf("the crashed case needs uid 0 (the embedded config's root role reports records); measuring empty and 1M only")
			}
			for b.Loop() {
				var e, f, c startupTimes
				for range starts {
					e.add(startOnce(b, exe, empty))
					f.add(startOnce(b, exe, full))
					if crashed != "" {
						c.add(startOnce(b, exe, crashed))
					}
				}
				ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
				for _, r := range []struct {
					name string
					t    *startupTimes
				}{{"empty", &e}, {"1M", &f}, {"1M-crashed", &c}} {
					if len(r.t.health) == 0 {
						continue
					}
					b.Logf("%s, %s: listen p50 %v max %v, health p50 %v max %v",
						d.name, r.name, r.t.listenP50(), r.t.listenMax(), r.t.healthP50(), r.t.healthMax())
					b.ReportMetric(ms(r.t.listenP50()), r.name+"-listen-p50-ms")
					b.ReportMetric(ms(r.t.healthP50()), r.name+"-health-p50-ms")
					b.ReportMetric(ms(r.t.healthMax()), r.name+"-health-max-ms")
				}
				b.Logf("load average: %s", loadAverage())
				b.ReportMetric(float64(f.healthP50())/float64(e.healthP50()), "1M/empty-health")
				if crashed != "" {
					b.ReportMetric(float64(c.healthP50())/float64(e.healthP50()), "1M-crashed/empty-health")
				}
			}
		})
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// buildPermd builds cmd/permd into exe with CGO_ENABLED=cgo.
func buildPermd(exe, cgo string) ([]byte, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(gobin, "build", "-o", exe, "permd/cmd/permd")
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+cgo)
	return cmd.CombinedOutput()
}

// startupTimes collects exec-to-listen and exec-to-health durations.
type startupTimes struct{ listen, health []time.Duration }

func (s *startupTimes) add(listen, health time.Duration) {
	s.listen = append(s.listen, listen)
	s.health = append(s.health, health)
}

func p50(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	return d[len(d)/2]
}

func (s *startupTimes) listenP50() time.Duration { return p50(s.listen) }
func (s *startupTimes) healthP50() time.Duration { return p50(s.health) }
func (s *startupTimes) listenMax() time.Duration { return slices.Max(s.listen) }
func (s *startupTimes) healthMax() time.Duration { return slices.Max(s.health) }

func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// daemonArgs is how the benchmark runs permd: the embedded default
// config, this machine's /proc (process tracking reads it at start as on
// a device), logs at warn to stderr.
func daemonArgs(data string) []string {
	return []string{"--root", "/", "--data-dir", data, "--config-dir", "embedded",
		"--socket", filepath.Join(data, "permd.sock"), "--log", "stderr", "--log-level", "warn"}
}

// startOnce copies the database src into a fresh data dir, execs exe on
// it and times exec to listen and exec to a sys.health answer; then it
// stops the daemon with SIGTERM.
func startOnce(b *testing.B, exe, src string) (listen, health time.Duration) {
	b.Helper()
	data := b.TempDir()
	if err := copyFile(src, filepath.Join(data, store.FileName)); err != nil {
		b.Fatal(err)
	}
	sock := filepath.Join(data, "permd.sock")
	var stderr harness.Buffer
	cmd := exec.Command(exe, daemonArgs(data)...)
	cmd.Stderr = &stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}()
	var conn net.Conn
	for conn == nil {
		select {
		case err := <-exited:
			b.Fatalf("permd exited before listening: %v\n%s", err, stderr.String())
		default:
		}
		c, err := net.Dial("unix", sock)
		if err == nil {
			conn = c
			break
		}
		if time.Since(t0) > time.Minute {
			b.Fatalf("permd not listening after a minute: %v\n%s", err, stderr.String())
		}
		time.Sleep(200 * time.Microsecond)
	}
	listen = time.Since(t0)
	c := client.New(conn)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var h struct {
		Status string `json:"status"`
	}
	if err := c.Call(ctx, "sys.health", nil, &h); err != nil {
		b.Fatalf("sys.health: %v\n%s", err, stderr.String())
	}
	health = time.Since(t0)
	if h.Status == "" {
		b.Fatalf("sys.health answered without a status\n%s", stderr.String())
	}
	return listen, health
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// primedLedger runs exe once on dir's database (a copy of src, or a
// new one when src is "") until it serves, stops it, checkpoints the WAL
// into the file and returns the file's path: a database as permd leaves
// it, every component's schema in place.
func primedLedger(b *testing.B, exe, dir, src string) string {
	b.Helper()
	cmd, c, stderr := serveOn(b, exe, dir, src)
	c.Close()
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		b.Fatalf("permd exit: %v\n%s", err, stderr.String())
	}
	path := filepath.Join(dir, store.FileName)
	checkpoint(b, path)
	return path
}

// serveOn starts exe on the data dir dir, its database a copy of src (a
// new one when src is empty), and returns once it answers sys.health,
// with a client connected and its stderr. The caller ends it.
func serveOn(b *testing.B, exe, dir, src string) (*exec.Cmd, *client.Client, *harness.Buffer) {
	b.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	if src != "" {
		if err := copyFile(src, filepath.Join(dir, store.FileName)); err != nil {
			b.Fatal(err)
		}
	}
	cmd := exec.Command(exe, daemonArgs(dir)...)
	stderr := &harness.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		c, err := client.Dial(context.Background(), filepath.Join(dir, "permd.sock"))
		if err == nil {
			if err = c.Call(context.Background(), "sys.health", nil, nil); err == nil {
				return cmd, c, stderr
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			b.Fatalf("permd did not serve on %s: %v\n%s", dir, err, stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkpoint folds the WAL into the database file, so that a copy of the
// file alone is the whole database.
func checkpoint(b *testing.B, path string) {
	b.Helper()
	db, err := store.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
}

// startupLedger returns a cached database of at least rows rows written
// by the real writer and primed by exe (see primedLedger), generating it
// when the cache lacks one for this schema.
func startupLedger(b *testing.B, exe string, rows int) string {
	b.Helper()
	fp := schemaPrint(b)
	path := filepath.Join(os.TempDir(), fmt.Sprintf("permd-bench-startup-%x-%d.db", fp[:4], rows))
	if _, err := os.Stat(path + ".done"); err == nil {
		return path
	}
	fmt.Fprintf(os.Stderr, "bench: writing a %d-row ledger through the ledger writer once, cached as %s\n", rows, path)
	t1 := time.Now()
	work := fmt.Sprintf("%s.tmp%d", path, os.Getpid())
	defer os.RemoveAll(work)
	raw := filepath.Join(work, "raw.db")
	if err := os.MkdirAll(work, 0o755); err != nil {
		b.Fatal(err)
	}
	writeLedger(b, raw, rows)
	primed := primedLedger(b, exe, filepath.Join(work, "data"), raw)
	// Rename within the temp dir, so that concurrent runs never see a
	// half-built file.
	if err := os.Rename(primed, path); err != nil {
		b.Fatal(err)
	}
	os.WriteFile(path+".done", nil, 0o644)
	b.Logf("ledger of %d rows ready in %v", rows, time.Since(t1).Round(time.Second))
	return path
}

// schemaPrint fingerprints the ledger schema this build creates, so that
// a changed schema never reuses a stale cached ledger.
func schemaPrint(b *testing.B) [sha256.Size]byte {
	b.Helper()
	db, err := store.Open(filepath.Join(b.TempDir(), "schema.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := ledger.Migrate(context.Background(), db); err != nil {
		b.Fatal(err)
	}
	var schema string
	if err := db.QueryRow(`SELECT group_concat(sql, ';') FROM (SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name)`).Scan(&schema); err != nil {
		b.Fatal(err)
	}
	return sha256.Sum256([]byte(schema + "startup1"))
}

// writeLedger appends records through the ledger writer (default rules,
// so identical events within the window coalesce) until rows rows are
// stored: a week of a realistic mix over 300 apps, ending now.
func writeLedger(b *testing.B, path string, rows int) {
	b.Helper()
	raw, err := fs.ReadFile(etc.Default(), "rules.json")
	if err != nil {
		b.Fatal(err)
	}
	rules, err := ledger.ParseRules(raw)
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	end := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	start := end.Add(-7 * 24 * time.Hour)
	// Spread the events so that about rows rows result; coalescing makes
	// a few more events than rows necessary.
	step := 7 * 24 * time.Hour / time.Duration(rows)
	clk := testclock.New(start) // the writer's clock while it writes a past week
	ctx := context.Background()
	l, err := ledger.Open(ctx, db, ledger.Options{Rules: rules, Now: clk.Now,
		Packages: func(uid int) []string { return []string{fmt.Sprintf("com.vendor%d.app", uid-10000)} }})
	if err != nil {
		b.Fatal(err)
	}
	const batch = 1000
	for i := 0; l.Stats().Rows < int64(rows); i += batch {
		recs := make([]ledger.Record, batch)
		for j := range recs {
			recs[j] = startupRecord(i+j, start.Add(time.Duration(i+j)*step))
		}
		clk.Set(recs[batch-1].Time)
		if err := l.Append(ctx, recs...); err != nil {
			b.Fatal(err)
		}
	}
	clk.Set(end.Add(time.Hour))
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	var n int64
	if err := db.QueryRow(`SELECT (SELECT COUNT(*) FROM ledger_event) + (SELECT COUNT(*) FROM ledger_recent)`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	if n < int64(rows) {
		b.Fatalf("want at least %d rows written, got %d", rows, n)
	}
}

var startupCats = []string{"calendar", "call_log", "camera", "contacts", "location", "microphone", "phone", "sms", "storage", "body_activity"}

// startupRecord is the i-th record of a realistic mix: mostly single
// accesses, some spans, background starts and sensitive reads.
func startupRecord(i int, at time.Time) ledger.Record {
	r := rand.New(rand.NewPCG(uint64(i), 11))
	uid := 10000 + r.IntN(300)
	cat := startupCats[r.IntN(len(startupCats))]
	st := []string{"foreground", "foreground", "visible", "background", "not_running"}[r.IntN(5)]
	res := []string{"allowed", "allowed", "allowed", "denied", "reduced", "decoy", "rate_limited"}[r.IntN(7)]
	switch p := r.IntN(100); {
	case p < 70:
		return ledger.Record{Time: at, UID: uid, Kind: "access", Category: cat, Op: "android:" + cat, Result: res, AppState: st}
	case p < 80:
		d, _ := json.Marshal(map[string]int{"duration_ms": r.IntN(600000)})
		return ledger.Record{Time: at, UID: uid, Kind: "span", Category: cat, Op: "android:" + cat, Result: res, AppState: st, Detail: d}
	case p < 90:
		return ledger.Record{Time: at, UID: uid, Kind: "self_start", Category: "process", AppState: "not_running",
			Detail: json.RawMessage(`{"reason":"` + []string{"broadcast", "alarm", "job", "push", "service"}[r.IntN(5)] + `"}`)}
	case p < 95:
		return ledger.Record{Time: at, UID: uid, Kind: "clipboard_read", Category: "clipboard", Result: "allowed", AppState: st}
	default:
		return ledger.Record{Time: at, UID: uid, Kind: "device_id_read", Category: "device_id", Result: "allowed", AppState: st,
			Detail: json.RawMessage(`{"id":"android_id"}`)}
	}
}

// crashOpenRecords is how many distinct records crashedLedger reports
// before the kill: each opens a row that start-up must seal.
var crashOpenRecords = envInt("PERMD_BENCH_CRASH_OPEN", 20000)

// crashedLedger runs exe on a copy of src, reports crashOpenRecords
// distinct records (each an open row: none coalesce, none is sealed
// before its window ends) and starts 20 uses it never ends, kills it
// with SIGKILL and returns the database, its WAL checkpointed into the
// file (which moves pages, not rows: the open rows stay open).
func crashedLedger(b *testing.B, exe, dir, src string) string {
	b.Helper()
	cmd, c, stderr := serveOn(b, exe, dir, src)
	defer cmd.Wait()
	defer cmd.Process.Kill()
	defer c.Close()
	path := filepath.Join(dir, store.FileName)
	ctx := context.Background()
	for i := 0; i < crashOpenRecords; i += 200 {
		recs := make([]map[string]any, min(200, crashOpenRecords-i))
		for j := range recs {
			recs[j] = map[string]any{"uid": 10000 + j%50, "kind": "access", "category": "location",
				"op": fmt.Sprintf("crash:%d", i+j), "result": "allowed", "app_state": "background"}
		}
		if err := c.Call(ctx, "ledger.report", map[string]any{"records": recs}, nil); err != nil {
			b.Fatalf("ledger.report: %v\n%s", err, stderr.String())
		}
	}
	for i := range 20 {
		if err := c.Call(ctx, "op.start", map[string]any{"resource": "microphone", "uid": 10200 + i, "package": "com.crash.rec"}, nil); err != nil {
			b.Fatalf("op.start: %v\n%s", err, stderr.String())
		}
	}
	var h struct {
		Parts map[string]map[string]any `json:"parts"`
	}
	if err := c.Call(ctx, "sys.health", map[string]bool{"detail": true}, &h); err != nil {
		b.Fatal(err)
	}
	// The uses reach ledger_use with the next commit: wait for it.
	time.Sleep(time.Second)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		b.Fatal(err)
	}
	cmd.Wait()
	checkpoint(b, path)
	var open, uses int64
	db, err := store.OpenReadOnly(path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT (SELECT COUNT(*) FROM ledger_recent WHERE hash IS NULL), (SELECT COUNT(*) FROM ledger_use)`).Scan(&open, &uses); err != nil {
		b.Fatal(err)
	}
	b.Logf("crashed ledger: %d rows left open (the writer had %v open), %d uses left in progress", open, h.Parts["ledger"]["open_rows"], uses)
	if open == 0 || uses == 0 {
		b.Fatalf("want rows left open and uses in progress after kill -9, got %d and %d", open, uses)
	}
	return path
}
