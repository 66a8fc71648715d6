package privacy_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"permd/aosp/etc"
	"permd/aosp/privacy"
	"permd/aosp/privacy/privacytest"
	"permd/framework/client"
	"permd/framework/frameworktest"
	"permd/ledger"
	"permd/ledger/store"
)

// benchLedger returns a data dir whose permd.db holds rows rows over
// the 7 days before today's end, over 300 apps, shaped like the ledger
// benchmarks' (70% accesses, 10% spans, 10% self-starts, 5% clipboard,
// 5% device-id reads), written through the real ledger writer without
// merging. It is cached in the temp dir per driver, size and day, so
// that the pages' "last 7 days" always covers it.
func benchLedger(b *testing.B, rows int) (dir string, end time.Time) {
	b.Helper()
	end = time.Now() // records end now: the pages' windows are relative to the browser's clock
	day := time.Now().UTC().Format("20060102")
	dir = filepath.Join(os.TempDir(), fmt.Sprintf("permd-privacy-bench-%s-%d-%s", strings.ReplaceAll(store.Driver, "/", "_"), rows, day))
	if b, err := os.ReadFile(filepath.Join(dir, "done")); err == nil {
		ms, _ := strconv.ParseInt(string(b), 10, 64)
		return dir, time.UnixMilli(ms)
	}
	tmp := fmt.Sprintf("%s.tmp%d", dir, os.Getpid())
	os.RemoveAll(tmp)
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	db, err := store.Open(filepath.Join(tmp, "permd.db"))
	if err != nil {
		b.Fatal(err)
	}
	raw, err := fs.ReadFile(etc.Default(), "rules.json")
	if err != nil {
		b.Fatal(err)
	}
	rules, err := ledger.ParseRules(raw)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	l, err := ledger.Open(ctx, db, ledger.Options{
		Rules:    rules,
		Packages: func(uid int) []string { return []string{fmt.Sprintf("com.vendor%d.app", uid-10000)} },
		Now:      func() time.Time { return end },
	})
	if err != nil {
		b.Fatal(err)
	}
	noMerge := *rules
	noMerge.CoalesceWindow = 0 // every record its own row: the benchmark measures rows
	l.SetRules(&noMerge)
	cats := []string{"calendar", "call_log", "camera", "contacts", "location", "microphone", "phone", "sms", "storage", "body_activity"}
	start := end.Add(-7 * 24 * time.Hour)
	step := 7 * 24 * time.Hour / time.Duration(rows)
	const workers, batch = 4, 1000
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	t0 := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs := make([]ledger.Record, 0, batch)
			for i := w * batch; i < rows; i += workers * batch {
				recs = recs[:0]
				for j := i; j < min(i+batch, rows); j++ {
					r := rand.New(rand.NewPCG(uint64(j), 7))
					rec := ledger.Record{Time: start.Add(time.Duration(j) * step), UID: 10000 + r.IntN(300),
						AppState: []string{"foreground", "foreground", "visible", "background", "not_running"}[r.IntN(5)]}
					cat := cats[r.IntN(len(cats))]
					res := []string{"allowed", "allowed", "allowed", "denied", "reduced", "decoy", "rate_limited"}[r.IntN(7)]
					switch p := r.IntN(100); {
					case p < 70:
						rec.Kind, rec.Category, rec.Op, rec.Result = "access", cat, "android:"+cat, res
					case p < 80:
						rec.Kind, rec.Category, rec.Op, rec.Result = "span", cat, "android:"+cat, res
					case p < 90:
						rec.Kind, rec.Category, rec.AppState = "self_start", "process", "not_running"
					case p < 95:
						rec.Kind, rec.Category, rec.Result = "clipboard_read", "clipboard", "allowed"
					default:
						rec.Kind, rec.Category, rec.Result = "device_id_read", "device_id", "allowed"
					}
					recs = append(recs, rec)
				}
				if err := l.Append(ctx, recs...); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	db.Close()
	b.Logf("generated %d rows in %s", rows, time.Since(t0).Round(time.Second))
	if err := os.WriteFile(filepath.Join(tmp, "done"), []byte(strconv.FormatInt(end.UnixMilli(), 10)), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
		b.Fatal(err)
	}
	return dir, end
}

// BenchmarkOverview renders the overview of a PERMD_BENCH_ROWS-row
// (default 10 million) 7-day ledger in headless chromium through the UI
// server, both windows, and compares the time to a rendered page with
// the time of the ledger.summary and ledger.timeline calls the page
// made, replayed one after another over the socket in the same run
// (target: at most 1.5 times). It also writes the 7-day report and
// reports its size (target: at most 5 MB).
func BenchmarkOverview(b *testing.B) {
	rows := 10_000_000
	if v, err := strconv.Atoi(os.Getenv("PERMD_BENCH_ROWS")); err == nil && v > 0 {
		rows = v
	}
	rounds := 3
	if v, err := strconv.Atoi(os.Getenv("PERMD_BENCH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	dir, _ := benchLedger(b, rows)
	d := frameworktest.Start(b, frameworktest.Options{Data: dir})
	src := &privacy.Daemon{Socket: d.Socket}
	defer src.Close()
	srv, err := privacy.NewServer(src, nil)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := privacy.Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	defer stop()
	go srv.Serve(sctx, ln)
	url := srv.URL(ln.Addr())
	br := privacytest.Browser(b, "en-US")
	p := privacytest.NewPage(b, br)
	c, err := client.Dial(context.Background(), d.Socket)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()

	for b.Loop() {
		for _, win := range []string{"24h", "7d"} {
			var page, calls []time.Duration
			var keys []string
			for range rounds {
				privacytest.OpenWithin(b, p, url+"#/", 30*time.Minute)
				if win == "7d" {
					privacytest.Eval(b, p, `privacyCenter.setWindow('7d')`, nil)
					privacytest.ReadyWithin(b, p, 30*time.Minute)
					// setWindow starts after the load: time from there.
				}
				var ms float64
				if win == "7d" {
					privacytest.Eval(b, p, `privacyCenter.state.readyAt - privacyCenter.state.windowAt`, &ms)
				} else {
					privacytest.Eval(b, p, `privacyCenter.state.readyAt`, &ms)
				}
				page = append(page, time.Duration(ms*float64(time.Millisecond)))
				keys = nil
				// The calls of this window (the page keeps the other
				// window's replies too).
				privacytest.Eval(b, p, `Object.keys(privacyCenter.state.cache).filter(k => (k.startsWith('ledger.summary ') || k.startsWith('ledger.timeline ')) && k.includes('"since_ms":' + privacyCenter.state.since))`, &keys)
				// The same calls, one after another, straight to permd.
				t0 := time.Now()
				for _, k := range keys {
					method, params, _ := strings.Cut(k, " ")
					if err := c.Call(ctx, method, rawJSON(params), nil); err != nil {
						b.Fatal(err)
					}
				}
				calls = append(calls, time.Since(t0))
			}
			pm, cm := median(page), median(calls)
			b.Logf("overview %s: %d summary/timeline calls; page rendered in %s, the calls one after another %s: ratio %.2f (rounds %v / %v)",
				win, len(keys), pm.Round(time.Millisecond), cm.Round(time.Millisecond), float64(pm)/float64(cm), page, calls)
			b.ReportMetric(float64(pm)/float64(cm), "overview"+win+"/calls")
			b.ReportMetric(float64(pm.Milliseconds()), "overview"+win+"-ms")
		}
		var n countWriter
		t0 := time.Now()
		if err := privacy.Report(ctx, src, privacy.ReportOptions{Now: time.Now(), Since: 7 * 24 * time.Hour, Origin: "bench"}, &n); err != nil {
			b.Fatal(err)
		}
		b.Logf("report --html of 7 days: %.2f MB in %s", float64(n)/1e6, time.Since(t0).Round(time.Millisecond))
		b.ReportMetric(float64(n)/1e6, "report-MB")
		if n > 5_000_000 {
			b.Errorf("the 7-day report is %d bytes, over the 5 MB budget", n)
		}
	}
	privacytest.NoProblems(b, p)
}

type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

type countWriter int64

func (w *countWriter) Write(p []byte) (int, error) { *w += countWriter(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
