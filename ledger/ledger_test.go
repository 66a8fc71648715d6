package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"permd/aosp/etc"
	"permd/ledger/store"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func defaultRules(t testing.TB) *Rules {
	t.Helper()
	raw, err := fs.ReadFile(etc.Default(), "rules.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRules(raw)
	if err != nil {
		t.Fatalf("shipped rules.json: %v", err)
	}
	return r
}

var t0 = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

type fixture struct {
	l    *Ledger
	db   *sql.DB
	path string
	clk  *clock
}

func newFixture(t testing.TB, pkgs map[int][]string) *fixture {
	t.Helper()
	f := &fixture{path: filepath.Join(t.TempDir(), store.FileName), clk: &clock{t: t0}}
	db, err := store.Open(f.path)
	if err != nil {
		t.Fatal(err)
	}
	f.db = db
	f.open(t, pkgs)
	t.Cleanup(func() { f.l.Close(); db.Close() })
	return f
}

func (f *fixture) open(t testing.TB, pkgs map[int][]string) {
	t.Helper()
	l, err := Open(context.Background(), f.db, Options{
		Rules: defaultRules(t), Now: f.clk.Now, SelfUID: 1000,
		Packages: func(uid int) []string { return pkgs[uid] },
	})
	if err != nil {
		t.Fatal(err)
	}
	f.l = l
}

func acc(uid int, cat, res, st string, at time.Time) Record {
	return Record{Time: at, UID: uid, Kind: "access", Category: cat, Op: "android:" + cat, Result: res, AppState: st}
}

func mustVerify(t testing.TB, r *Reader) VerifyReport {
	t.Helper()
	rep, err := r.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("verify: want ok, got first bad %+v", rep.FirstBad)
	}
	return rep
}

func TestAppendQueryCoalesceVerify(t *testing.T) {
	f := newFixture(t, map[int][]string{10100: {"com.b", "com.a"}})
	ctx := context.Background()
	// 7,000 identical background starts within 70 s: two rows (windows
	// of 60 s from the first event), exact count. They start 15 s before
	// the clock, so that none is further ahead of it than the rules allow.
	base := t0.Add(-15 * time.Second)
	var recs []Record
	for i := range 7000 {
		recs = append(recs, Record{Time: base.Add(time.Duration(i) * 10 * time.Millisecond), UID: 10100, Kind: "self_start", Category: "process", AppState: "background", Detail: json.RawMessage(`{"reason": "broadcast"}`)})
	}
	for i := 0; i < len(recs); i += 1000 {
		if err := f.l.Append(ctx, recs[i:i+1000]...); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.l.Append(ctx, acc(10100, "location", "allowed", "foreground", t0), acc(10100, "location", "denied", "background", t0.Add(time.Second))); err != nil {
		t.Fatal(err)
	}
	p, err := f.l.Query(ctx, Filter{Package: "com.a"}, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Events) != 4 {
		t.Fatalf("query: want 4 rows (2 start rows + 2 access), got %d: %+v", len(p.Events), p.Events)
	}
	start, second := p.Events[3], p.Events[0]
	if start.Kind != "self_start" || start.Count != 6000 || start.Last != base.Add(59990*time.Millisecond).UnixMilli() || !start.Open || string(start.Detail) != `{"reason":"broadcast"}` {
		t.Fatalf("coalesced row: want count 6000 over the first 60 s, open, compact detail; got %+v", start)
	}
	if second.Count != 1000 || second.Time != base.Add(60*time.Second).UnixMilli() {
		t.Fatalf("second window: want 1000 events from +60s, got %+v", second)
	}
	if strings.Join(start.Packages, ",") != "com.a,com.b" || start.User != 0 {
		t.Errorf("packages: want [com.a com.b] user 0, got %v user %d", start.Packages, start.User)
	}
	rep := mustVerify(t, f.l.Reader)
	if rep.Open == 0 {
		t.Errorf("verify: want open rows before the window ends, got %+v", rep)
	}
	f.clk.Add(2 * time.Minute)
	if err := f.l.Append(ctx, acc(10100, "camera", "allowed", "foreground", f.clk.Now())); err != nil {
		t.Fatal(err)
	}
	f.l.Close()
	f.open(t, nil)
	rep = mustVerify(t, f.l.Reader)
	if rep.Open != 0 || rep.Sealed != 5 {
		t.Errorf("after restart: want 5 sealed, 0 open; got %+v", rep)
	}
	n, err := f.l.CountSince(ctx, 10100, "location", []string{"allowed", "denied"}, t0.Add(-time.Hour))
	if err != nil || n != 2 {
		t.Errorf("CountSince location: want 2, got %d (%v)", n, err)
	}
	n, _ = f.l.CountSince(ctx, 10100, "location", []string{"denied"}, t0.Add(-time.Hour))
	if n != 1 {
		t.Errorf("CountSince denied: want 1, got %d", n)
	}
	sum, err := f.l.Summary(ctx, Filter{UID: ptr(10100)})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum) != 3 || sum[0].Category != "process" || sum[0].Count != 7000 || sum[0].Rows != 2 || sum[0].BackgroundShare != 1 {
		t.Errorf("summary: got %+v", sum)
	}
}

func ptr[T any](v T) *T { return &v }

func TestBadInputRejectedWhole(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	good := acc(10100, "camera", "allowed", "foreground", t0)
	big := good
	big.Detail = json.RawMessage(`{"proxy":"` + strings.Repeat("x", 1<<20) + `"}`)
	many := make([]Record, 100000)
	for i := range many {
		many[i] = good
	}
	for _, tc := range []struct {
		name  string
		recs  []Record
		field string
	}{
		{"unknown category", []Record{good, acc(10100, "telepathy", "allowed", "", t0)}, "category"},
		{"missing uid", []Record{{UID: -1, Kind: "access", Category: "camera", Result: "allowed"}}, "uid"},
		{"unknown kind", []Record{{UID: 1, Kind: "peek", Category: "camera"}}, "kind"},
		{"wrong result for kind", []Record{{UID: 1, Kind: "access", Category: "camera", Result: "ok"}}, "result"},
		{"1 MiB detail", []Record{good, big}, "detail"},
		{"detail not an object", []Record{{UID: 1, Kind: "access", Category: "camera", Result: "allowed", Detail: json.RawMessage(`[1]`)}}, "detail"},
		{"detail field not in the rules", []Record{{UID: 1, Kind: "access", Category: "camera", Result: "allowed", Detail: json.RawMessage(`{"imei":"123"}`)}}, "detail.imei"},
		{"batch of 100k", many, "records"},
		{"empty", nil, "records"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := f.l.Append(ctx, tc.recs...)
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field {
				t.Fatalf("want a ValidationError on field %q, got %v", tc.field, err)
			}
		})
	}
	var n int
	f.db.QueryRow(`SELECT COUNT(*) FROM ledger_all`).Scan(&n)
	if n != 0 {
		t.Fatalf("want nothing recorded after rejected reports, got %d rows", n)
	}
}

func TestEnqueueOverflowIsRecorded(t *testing.T) {
	f := newFixture(t, nil)
	l := f.l
	// Fill the queue faster than the writer can drain by holding the
	// write lock from another connection. The writer may hold a batch of
	// up to MaxBatch records besides the queue, so send more than both.
	conn, _ := f.db.Conn(context.Background())
	conn.ExecContext(context.Background(), "BEGIN IMMEDIATE")
	total := cap(l.queue) + l.opt.MaxBatch + 5000
	for i := 0; i < total; i++ {
		l.Enqueue(acc(10100, "camera", "allowed", "", t0.Add(time.Duration(i)*time.Millisecond)))
	}
	conn.ExecContext(context.Background(), "ROLLBACK")
	conn.Close()
	l.Close()
	if e := l.Stats().LastError; e != "" {
		t.Logf("writer error: %s", e)
	}
	// Drops may span several commits: sum every overload row.
	rows, err := f.db.Query(`SELECT e.detail FROM ledger_all e JOIN ledger_code k ON k.id = e.kind WHERE k.code = 'overload'`)
	if err != nil {
		t.Fatal(err)
	}
	var dropped, overloads int64
	for rows.Next() {
		var detail string
		rows.Scan(&detail)
		var d struct {
			Dropped int64  `json:"dropped"`
			Reason  string `json:"reason"`
		}
		json.Unmarshal([]byte(detail), &d)
		if d.Reason != "queue full" {
			t.Errorf("overload reason: want 'queue full', got %q", d.Reason)
		}
		dropped += d.Dropped
		overloads++
	}
	rows.Close()
	var recorded int64
	f.db.QueryRow(`SELECT SUM(n) FROM ledger_all e JOIN ledger_code k ON k.id = e.kind WHERE k.code = 'access'`).Scan(&recorded)
	if overloads == 0 || recorded+dropped != int64(total) {
		t.Fatalf("want recorded + dropped = %d in %s; got %d recorded, %d dropped in %d overload rows", total, "overload rows", recorded, dropped, overloads)
	}
	f.open(t, nil)
	mustVerify(t, f.l.Reader)
}

func TestInvalidEnqueueIsCountedNotStored(t *testing.T) {
	f := newFixture(t, nil)
	f.l.Enqueue(acc(10100, "telepathy", "allowed", "", time.Time{}), acc(10100, "camera", "allowed", "", time.Time{}))
	f.l.Enqueue(acc(10100, "camera", "denied", "", time.Time{}))
	f.l.Close()
	p, err := f.l.Query(context.Background(), Filter{}, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range p.Events {
		kinds = append(kinds, e.Kind+":"+string(e.Detail))
	}
	got := strings.Join(kinds, " ")
	if len(p.Events) != 2 || !strings.Contains(got, `overload:{"dropped":2,"reason":"invalid record: invalid record 0: category: unknown category \"telepathy\""}`) || !strings.Contains(got, "access:") {
		t.Fatalf("want the valid report stored and an overload row for the 2 records of the invalid one, got %s", got)
	}
}

func TestRulesVersionStampedAndKept(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	if err := f.l.Append(ctx, acc(10100, "camera", "allowed", "", t0)); err != nil {
		t.Fatal(err)
	}
	cur := f.l.Rules().Version
	curTag, nextTag := fmt.Sprintf(`"version": %d`, cur), fmt.Sprintf(`"version": %d`, cur+1)
	v2raw := strings.Replace(string(f.l.Rules().Raw()), curTag, nextTag, 1)
	v2, err := ParseRules([]byte(v2raw))
	if err != nil {
		t.Fatal(err)
	}
	f.l.SetRules(v2)
	if err := f.l.Append(ctx, acc(10100, "camera", "denied", "", t0)); err != nil {
		t.Fatal(err)
	}
	p, _ := f.l.Query(ctx, Filter{}, "", 10)
	if len(p.Events) != 2 || p.Events[0].Rules != cur+1 || p.Events[1].Rules != cur {
		t.Fatalf("want the new row under rules %d and the old one under %d, got %+v", cur+1, cur, p.Events)
	}
	for v, want := range map[int]string{cur: curTag, cur + 1: nextTag} {
		raw, err := f.l.RulesVersion(ctx, v)
		if err != nil || !strings.Contains(string(raw), want) {
			t.Errorf("rules version %d: want its text kept, got %.40q %v", v, raw, err)
		}
	}
	mustVerify(t, f.l.Reader)
}

// TestStagedRowsAreReadAndMerged follows rows through ledger_recent: an
// acknowledged row is visible to every read at once, a full stage is
// moved into ledger_event while the writer runs, and Close moves the
// rest. The chains verify at every step.
func TestStagedRowsAreReadAndMerged(t *testing.T) {
	f := newFixture(t, map[int][]string{10001: {"com.a"}})
	f.l.SetRules(noMerge(f.l.Rules()))
	ctx := context.Background()
	count := func(table string) (n int64) {
		t.Helper()
		if err := f.db.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	verify := func(step string) {
		t.Helper()
		rep, err := f.l.Verify(ctx)
		if err != nil || !rep.OK {
			t.Fatalf("%s: want the ledger to verify, got %+v %v", step, rep.FirstBad, err)
		}
	}
	batch := func(from, n int) []Record {
		recs := make([]Record, n)
		for i := range recs {
			recs[i] = acc(10001, "camera", "allowed", "foreground", t0.Add(-time.Hour+time.Duration(from+i)*time.Millisecond))
		}
		return recs
	}
	if err := f.l.Append(ctx, batch(0, 10)...); err != nil {
		t.Fatal(err)
	}
	if got := count(`ledger_recent`); got != 10 {
		t.Fatalf("after one small report: want its 10 rows staged, got %d", got)
	}
	p, err := f.l.Query(ctx, Filter{Package: "com.a"}, "", 100)
	if err != nil || len(p.Events) != 10 {
		t.Fatalf("staged rows: want all 10 read back, got %d (%v)", len(p.Events), err)
	}
	sum, err := f.l.Summary(ctx, Filter{})
	if err != nil || len(sum) != 1 || sum[0].Count != 10 {
		t.Fatalf("staged rows: want a summary of 10 events, got %+v (%v)", sum, err)
	}
	verify("staged")
	// Fill the stage: the writer merges without waiting for Close.
	for i := 10; i < mergeRows+10; i += 1000 {
		if err := f.l.Append(ctx, batch(i, min(1000, mergeRows+10-i))...); err != nil {
			t.Fatal(err)
		}
	}
	// The writer merges after answering; the next report's answer
	// comes after that merge.
	if err := f.l.Append(ctx, batch(mergeRows+10, 1)...); err != nil {
		t.Fatal(err)
	}
	// Whether the once-a-second merge took part of them first depends
	// on the machine's speed; either way the stage never holds a whole
	// mergeRows.
	if got := count(`ledger_recent`); got >= mergeRows {
		t.Fatalf("after %d rows: want the stage merged once it reached %d rows, got %d staged", mergeRows+11, mergeRows, got)
	}
	if all := count(`ledger_all`); all != mergeRows+11 {
		t.Fatalf("want %d rows in all, got %d", mergeRows+11, all)
	}
	verify("merged")
	if err := f.l.Close(); err != nil {
		t.Fatal(err)
	}
	if got := count(`ledger_recent`); got != 0 {
		t.Fatalf("after Close: want the stage empty, got %d rows", got)
	}
	if got := count(`ledger_event`); got != mergeRows+11 {
		t.Fatalf("after Close: want %d rows in ledger_event, got %d", mergeRows+11, got)
	}
	verify("closed")
}

// TestWaitingReporterEndsGathering sets a long commit_delay: records
// handed over without waiting may be gathered that long, but a reporter
// that waits is committed at once, together with what was gathered.
func TestWaitingReporterEndsGathering(t *testing.T) {
	f := newFixture(t, map[int][]string{10100: {"com.a"}})
	r := *f.l.Rules()
	r.CommitDelay = etc.Duration(5 * time.Second)
	f.l.SetRules(&r)
	f.l.Enqueue(acc(10100, "camera", "allowed", "foreground", t0.Add(-time.Minute)))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := f.l.Append(ctx, acc(10100, "microphone", "allowed", "foreground", t0.Add(-time.Minute))); err != nil {
		t.Fatalf("a waiting reporter was held for the gathering window: %v", err)
	}
	var n int
	f.db.QueryRow(`SELECT COUNT(*) FROM ledger_all`).Scan(&n)
	if n != 2 {
		t.Fatalf("want the gathered record committed with the waiting one: %d rows", n)
	}
}
