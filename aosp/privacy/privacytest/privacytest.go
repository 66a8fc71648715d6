// Package privacytest gives the Privacy Center's tests a real permd
// seeded with a known ledger and grants, and a headless chromium to
// look at the pages with. Test code only.
package privacytest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"permd/aosp/privacy/internal/cdp"
	"permd/framework/client"
	"permd/framework/frameworktest"
	"permd/framework/protocol"
)

// Page is a browser tab (see internal/cdp).
type Page = cdp.Page

// Packages is the fixture's packages.list: three apps.
const Packages = "com.example.maps 10123 0 /data/user/0/com.example.maps default:targetSdkVersion=34 3003 0 1 1 com.android.vending\n" +
	"com.example.chat 10200 0 /data/user/0/com.example.chat default:targetSdkVersion=34 3003 0 1 1 com.android.vending\n" +
	"com.example.cam 10300 0 /data/user/0/com.example.cam default:targetSdkVersion=34 3003 0 1 1 com.android.vending\n"

// UIDs of the fixture's apps.
const (
	Maps = 10123
	Chat = 10200
	Cam  = 10300
)

// Fixture is a running permd with the seeded record.
type Fixture struct {
	*frameworktest.Daemon
	Now time.Time // when the records were seeded (times are relative to it)
	c   *client.Client
}

// Start runs permd on a fixture root with Packages and seeds it with
// Seed. Extra config files may be given (e.g. a roles table).
func Start(t testing.TB, config map[string]string) *Fixture {
	t.Helper()
	root := filepath.Join(t.TempDir(), "root")
	if err := os.MkdirAll(filepath.Join(root, "data", "system"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "data", "system", "packages.list"), []byte(Packages), 0o644); err != nil {
		t.Fatal(err)
	}
	d := frameworktest.Start(t, frameworktest.Options{Root: root, Config: config})
	c, err := client.Dial(context.Background(), d.Socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	f := &Fixture{Daemon: d, Now: time.Now(), c: c}
	f.Seed(t)
	return f
}

// Call calls permd as this (root) process.
func (f *Fixture) Call(t testing.TB, method string, params, out any) {
	t.Helper()
	if err := f.c.Call(context.Background(), method, params, out); err != nil {
		t.Fatalf("%s %v: %v", method, params, err)
	}
}

type rec struct {
	TimeMS   int64          `json:"time_ms"`
	UID      int            `json:"uid"`
	Kind     string         `json:"kind"`
	Category string         `json:"category"`
	Result   string         `json:"result,omitempty"`
	AppState string         `json:"app_state,omitempty"`
	Detail   map[string]any `json:"detail,omitempty"`
}

// Seed reports the known record: each line below is n events, one
// every two minutes from `ago` before now (so rows do not merge).
// Figures the tests rely on: com.example.maps used location 14 times in
// the background in the last 24 hours (20 in 7 days) under a
// while-in-use grant.
func (f *Fixture) Seed(t testing.TB) {
	t.Helper()
	var recs []rec
	add := func(n int, ago time.Duration, r rec) {
		for i := range n {
			r.TimeMS = f.Now.Add(-ago + time.Duration(i)*2*time.Minute).UnixMilli()
			recs = append(recs, r)
		}
	}
	h := time.Hour
	add(14, 3*h, rec{UID: Maps, Kind: "access", Category: "location", Result: "allowed", AppState: "background"})
	add(3, 5*h, rec{UID: Maps, Kind: "access", Category: "location", Result: "denied", AppState: "foreground"})
	add(2, 6*h, rec{UID: Maps, Kind: "access", Category: "location", Result: "rate_limited", AppState: "foreground"})
	add(1, 6*h+30*time.Minute, rec{UID: Maps, Kind: "access", Category: "location", Result: "decoy", AppState: "visible"})
	add(5, 2*h, rec{UID: Maps, Kind: "access", Category: "location", Result: "reduced", AppState: "foreground"})
	add(6, 72*h, rec{UID: Maps, Kind: "access", Category: "location", Result: "allowed", AppState: "background"})
	add(1, 4*h, rec{UID: Maps, Kind: "device_id_read", Category: "device_id", Result: "allowed", AppState: "background", Detail: map[string]any{"id": "android_id"}})
	add(4, 7*h, rec{UID: Maps, Kind: "self_start", Category: "process", AppState: "not_running", Detail: map[string]any{"reason": "broadcast"}})
	add(9, 48*h, rec{UID: Maps, Kind: "self_start", Category: "process", AppState: "not_running", Detail: map[string]any{"reason": "alarm"}})
	add(3, 1*h, rec{UID: Chat, Kind: "clipboard_read", Category: "clipboard", Result: "allowed", AppState: "foreground"})
	add(2, 30*time.Minute, rec{UID: Chat, Kind: "clipboard_read", Category: "clipboard", Result: "allowed", AppState: "background"})
	add(1, 8*h, rec{UID: Chat, Kind: "app_list_read", Category: "app_list", Result: "allowed", AppState: "foreground", Detail: map[string]any{"api": "getInstalledPackages"}})
	add(2, 9*h, rec{UID: Chat, Kind: "associated_start", Category: "process", AppState: "not_running", Detail: map[string]any{"caller": "com.example.maps", "reason": "broadcast"}})
	add(5, 2*h, rec{UID: Chat, Kind: "access", Category: "contacts", Result: "allowed", AppState: "foreground"})
	add(2, 26*h, rec{UID: Chat, Kind: "access", Category: "microphone", Result: "denied", AppState: "background"})
	add(7, 20*time.Minute, rec{UID: Cam, Kind: "access", Category: "camera", Result: "allowed", AppState: "foreground"})
	add(1, 20*time.Minute, rec{UID: Cam, Kind: "span", Category: "camera", Result: "allowed", AppState: "foreground", Detail: map[string]any{"duration_ms": 5000, "reason": "finish"}})
	var res protocol.ReportResult
	f.Call(t, protocol.MethodLedgerReport, map[string]any{"records": recs}, &res)
	if res.Committed != len(recs) {
		t.Fatalf("seed: committed %d of %d records", res.Committed, len(recs))
	}
	f.Call(t, protocol.MethodGrantsSet, map[string]any{"package": "com.example.maps", "category": "location", "time": map[string]any{"mode": "while_in_use"}, "precision": map[string]any{"level": "approx_3km"}}, nil)
	f.Call(t, protocol.MethodGrantsSet, map[string]any{"package": "com.example.chat", "category": "contacts", "time": map[string]any{"mode": "while_in_use"}, "precision": map[string]any{"level": "all"}}, nil)
	f.Call(t, protocol.MethodGrantsSet, map[string]any{"package": "com.example.cam", "category": "camera", "time": map[string]any{"mode": "while_in_use"}}, nil)
}

// Browser starts headless chromium for the test, in lang ("en-US",
// "zh-CN"). A missing chromium fails the test with the install hint:
// these tests are part of make test and never skip.
func Browser(t testing.TB, lang string) *cdp.Browser {
	t.Helper()
	b, err := cdp.Launch(cdp.Options{Lang: lang, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// NewPage opens a tab.
func NewPage(t testing.TB, b *cdp.Browser) *Page {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := b.NewPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Open navigates to url and waits until the page says it is ready
// (body data-state), failing on an error state or a console problem.
func Open(t testing.TB, p *Page, url string) {
	t.Helper()
	OpenWithin(t, p, url, 90*time.Second)
}

// OpenWithin is Open with a limit for large ledgers (benchmarks).
func OpenWithin(t testing.TB, p *Page, url string, limit time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	// Through about:blank, so that a URL differing only in its fragment
	// is a fresh load, not a hash change on the previous page.
	if err := p.Navigate(ctx, "about:blank"); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(ctx, `location.href === 'about:blank' && document.readyState === 'complete'`); err != nil {
		t.Fatal(err)
	}
	if err := p.Navigate(ctx, url); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitFor(ctx, `location.href.startsWith(`+strconv.Quote(url)+`) && document.body && document.body.dataset.state`); err != nil {
		t.Fatal(err)
	}
	ReadyWithin(t, p, limit)
}

// Ready waits for the current page to finish rendering.
func Ready(t testing.TB, p *Page) {
	t.Helper()
	ReadyWithin(t, p, 90*time.Second)
}

// ReadyWithin is Ready with a limit for large ledgers (benchmarks).
func ReadyWithin(t testing.TB, p *Page, limit time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if err := p.WaitFor(ctx, `document.body && document.body.dataset.state !== 'loading'`); err != nil {
		t.Fatalf("page never finished loading: %v; problems: %v", err, p.Problems())
	}
	var state, msg string
	Eval(t, p, `document.body.dataset.state`, &state)
	if state != "ready" {
		Eval(t, p, `(document.querySelector('[role=alert]')||{}).textContent||''`, &msg)
		t.Fatalf("page state %q: %s; problems: %v", state, msg, p.Problems())
	}
	NoProblems(t, p)
}

// NoProblems fails on any console error, exception or error log entry.
func NoProblems(t testing.TB, p *Page) {
	t.Helper()
	if pr := p.Problems(); len(pr) > 0 {
		t.Fatalf("the page logged %d problems, want none:\n%v", len(pr), pr)
	}
}

// Eval evaluates expr in the page into out.
func Eval(t testing.TB, p *Page, expr string, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Eval(ctx, expr, out); err != nil {
		t.Fatal(err)
	}
}

// Figures are the overview's per-category numbers, as the page shows
// them and as ledger.summary gives them.
type Figures map[string]map[string]int64

// Summary sums ledger.summary rows per category, for the kinds the
// overview shows, since sinceMS: what the overview must show.
func (f *Fixture) Summary(t testing.TB, sinceMS int64) (cats Figures, starts map[string]map[string]int64) {
	t.Helper()
	cats, starts = Figures{}, map[string]map[string]int64{}
	for _, k := range []string{"access", "clipboard_read", "device_id_read", "app_list_read", "self_start", "associated_start"} {
		var res protocol.SummaryResult
		f.Call(t, protocol.MethodLedgerSummary, protocol.SummaryParams{Filter: protocol.Filter{Kind: k, Since: sinceMS}}, &res)
		dst := cats
		if k == "self_start" || k == "associated_start" {
			starts[k] = map[string]int64{"count": 0, "apps": 0}
			for _, a := range res.Apps {
				starts[k]["count"] += a.Count
				starts[k]["apps"]++
			}
			continue
		}
		for _, a := range res.Apps {
			m := dst[a.Category]
			if m == nil {
				m = map[string]int64{}
				dst[a.Category] = m
			}
			m["count"] += a.Count
			m["apps"]++
			m["background"] += a.Background
			for _, r := range []string{"denied", "decoy", "rate_limited", "reduced"} {
				m[r] += a.ByResult[r]
			}
		}
	}
	return cats, starts
}

// PageFigures reads the overview's category table and start figures.
func PageFigures(t testing.TB, p *Page) (cats Figures, starts map[string]map[string]int64) {
	t.Helper()
	var raw struct {
		Cats   map[string]map[string]string `json:"cats"`
		Starts map[string]map[string]string `json:"starts"`
	}
	Eval(t, p, `(() => {
	  const f = el => Object.fromEntries([...el.querySelectorAll('[data-f]')].map(x => [x.dataset.f, x.textContent]));
	  const cats = {}, starts = {};
	  document.querySelectorAll('#categories tbody tr').forEach(tr => { cats[tr.dataset.category] = f(tr); });
	  document.querySelectorAll('.stat[data-kind]').forEach(p => { starts[p.dataset.kind] = f(p); });
	  return {cats, starts};
	})()`, &raw)
	conv := func(in map[string]map[string]string, dropZero bool) map[string]map[string]int64 {
		out := map[string]map[string]int64{}
		for c, m := range in {
			o := map[string]int64{}
			for k, v := range m {
				var n int64
				for _, r := range v {
					if r >= '0' && r <= '9' {
						n = n*10 + int64(r-'0')
					}
				}
				o[k] = n
			}
			if dropZero && o["count"] == 0 {
				continue
			}
			out[c] = o
		}
		return out
	}
	return conv(raw.Cats, true), conv(raw.Starts, false)
}

// SinceMS is the start of the window the page shows.
func SinceMS(t testing.TB, p *Page) int64 {
	t.Helper()
	var ms int64
	Eval(t, p, `privacyCenter.state.since`, &ms)
	if ms <= 0 {
		t.Fatalf("page shows no window start (%d)", ms)
	}
	return ms
}

// Equal says whether two figure sets match, and how they differ.
func Equal(got, want map[string]map[string]int64) error {
	var errs []error
	for c, w := range want {
		for k, v := range w {
			if got[c][k] != v {
				errs = append(errs, fmt.Errorf("%s %s: page shows %d, ledger.summary says %d", c, k, got[c][k], v))
			}
		}
	}
	for c := range got {
		if _, ok := want[c]; !ok {
			errs = append(errs, fmt.Errorf("%s: page shows %v, ledger.summary has nothing", c, got[c]))
		}
	}
	return errors.Join(errs...)
}
