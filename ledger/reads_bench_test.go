package ledger

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"permd/ledger/store"
)

// The read benchmarks: a generated ledger of the benchmark's size, the
// reads a privacy center makes, each timed next to the SQL it runs, and
// the test that keeps their plans on the indexes.

// generate builds a ledger of rows rows over days days and apps apps
// directly (integer codes, real hash chains), much faster than the
// writer, for the read benchmarks. It is cached in the temp dir by size.
func generate(tb testing.TB, rows, days, apps int) (string, time.Time) {
	tb.Helper()
	end := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	// The cache is keyed by the schema too, so a changed schema or
	// generator never reuses a stale file.
	fp := sha256.Sum256([]byte(migrations[len(migrations)-1].SQL + "gen4"))
	path := filepath.Join(os.TempDir(), fmt.Sprintf("permd-bench-%s-%x-%d-%d-%d.db", strings.ReplaceAll(store.Driver, "/", "_"), fp[:4], rows, days, apps))
	if _, err := os.Stat(path + ".done"); err == nil {
		return path, end
	}
	// Build under a private name and rename, so that concurrent test
	// runs never see (or delete) a half-built file.
	tmp := fmt.Sprintf("%s.tmp%d", path, os.Getpid())
	// Minutes of silence for 10 M rows look like a hang: say what runs
	// (make bench-clean removes the cached files).
	fmt.Fprintf(os.Stderr, "bench: generating a %d-row ledger once, cached as %s\n", rows, path)
	db, err := store.Open(tmp)
	if err != nil {
		tb.Fatal(err)
	}
	defer func() {
		for _, s := range []string{"", "-wal", "-shm"} {
			os.Remove(tmp + s)
		}
	}()
	defer db.Close()
	ctx := context.Background()
	if err := Migrate(ctx, db); err != nil {
		tb.Fatal(err)
	}
	rules := defaultRules(tb)
	codes := map[string]int64{}
	code := func(tx *sql.Tx, s string) int64 {
		if s == "" {
			return 0
		}
		if id, ok := codes[s]; ok {
			return id
		}
		id := int64(len(codes) + 1)
		if _, err := tx.Exec(`INSERT INTO ledger_code(id, code) VALUES (?, ?)`, id, s); err != nil {
			tb.Fatal(err)
		}
		codes[s] = id
		return id
	}
	type head struct {
		seq  int64
		hash []byte
	}
	heads := map[int64]*head{}
	var h hasher
	start := end.Add(-time.Duration(days) * 24 * time.Hour)
	step := time.Duration(days) * 24 * time.Hour / time.Duration(rows)
	tx, _ := db.Begin()
	if _, err := tx.Exec(`INSERT INTO ledger_rules(version, body) VALUES (?, ?)`, rules.Version, string(rules.Raw())); err != nil {
		tb.Fatal(err)
	}
	for a := range apps {
		if _, err := tx.Exec(`INSERT INTO ledger_app(id, uid, packages) VALUES (?, ?, ?)`, a+1, 10000+a, benchPackages(10000 + a)[0]); err != nil {
			tb.Fatal(err)
		}
	}
	ins, _ := tx.Prepare(`INSERT INTO ledger_event(seq, t, dur, n, app, kind, cat, op, res, st, rules, detail, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`)
	nz := func(v int64) any {
		if v == 0 {
			return nil
		}
		return v
	}
	for i := range rows {
		r := synth(i, start, apps)
		r.Time = start.Add(time.Duration(i) * step)
		seq := int64(i + 1)
		kind, cat := code(tx, r.Kind), code(tx, r.Category)
		op, res, st := code(tx, r.Op), code(tx, r.Result), code(tx, r.AppState)
		n := int64(1)
		if i%7 == 0 {
			n = int64(2 + i%13) // some coalesced rows
		}
		c := content{Seq: seq, First: r.Time.UnixMilli(), Last: r.Time.UnixMilli(), Count: n, UID: int64(r.UID), Packages: benchPackages(r.UID)[0],
			Kind: r.Kind, Category: r.Category, Op: r.Op, Result: r.Result, AppState: r.AppState, Rules: int64(rules.Version), Detail: string(r.Detail)}
		hd := heads[kind]
		if hd == nil {
			hd = &head{hash: zeroHash}
			heads[kind] = hd
		}
		hv := rowHash(&h, hd.hash, &c)
		hd.seq, hd.hash = seq, hv
		var d any
		if r.Detail != nil {
			d = string(r.Detail)
		}
		if _, err := ins.Exec(seq, c.First, 0, n, r.UID-10000+1, kind, cat, nz(op), nz(res), nz(st), rules.Version, d, rowTag(hv)); err != nil {
			tb.Fatal(err)
		}
		if i%200000 == 199999 {
			ins.Close()
			if err := tx.Commit(); err != nil {
				tb.Fatal(err)
			}
			tx, _ = db.Begin()
			ins, _ = tx.Prepare(`INSERT INTO ledger_event(seq, t, dur, n, app, kind, cat, op, res, st, rules, detail, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`)
		}
	}
	ins.Close()
	for kind, hd := range heads {
		if _, err := tx.Exec(`INSERT INTO ledger_chain(kind, head_seq, head_hash) VALUES (?, ?, ?)`, kind, hd.seq, hd.hash); err != nil {
			tb.Fatal(err)
		}
	}
	d, _, err := headsDigest(ctx, tx, int64(rows))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := tx.Exec(`UPDATE ledger_tip SET last_seq = ?, heads = ? WHERE id = 1`, rows, d); err != nil {
		tb.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	if _, err := db.Exec(`ANALYZE`); err != nil {
		tb.Fatal(err)
	}
	dbBytes(tb, db)
	db.Close()
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatal(err)
	}
	os.WriteFile(path+".done", nil, 0o644)
	return path, end
}

// readCase is one read the benchmark compares with its own SQL.
type readCase struct {
	name    string
	service func(ctx context.Context, r *Reader) error
	sql     func(ctx context.Context, r *Reader) (string, []any)
}

func readCases(end time.Time) []readCase {
	uid := 10150
	since24 := end.Add(-24 * time.Hour).UnixMilli()
	since7d := end.Add(-7 * 24 * time.Hour).UnixMilli()
	app := Filter{UID: &uid}
	appDay := Filter{UID: &uid, Since: since24}
	cat := Filter{Category: "location", Since: since7d}
	return []readCase{
		{"summary-app-24h",
			func(ctx context.Context, r *Reader) error { _, err := r.Summary(ctx, appDay); return err },
			func(ctx context.Context, r *Reader) (string, []any) {
				q, a, _, _ := r.SummarySQL(ctx, appDay)
				return q, a
			}},
		{"newest100-app",
			func(ctx context.Context, r *Reader) error { _, err := r.Query(ctx, app, "", 100); return err },
			func(ctx context.Context, r *Reader) (string, []any) {
				q, a, _, _ := r.QuerySQL(ctx, app, "", 100)
				return q, a
			}},
		{"timeline-7d-hourly-category",
			func(ctx context.Context, r *Reader) error { _, err := r.Timeline(ctx, cat, time.Hour); return err },
			func(ctx context.Context, r *Reader) (string, []any) {
				q, a, _, _ := r.TimelineSQL(ctx, cat, time.Hour)
				return q, a
			}},
	}
}

// queryPlan returns EXPLAIN QUERY PLAN's detail lines.
func queryPlan(ctx context.Context, db *sql.DB, q string, args []any) ([]string, error) {
	rows, err := db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return nil, err
		}
		out = append(out, detail)
	}
	return out, rows.Err()
}

// rawRun runs q and reads every column of every row, the least any
// caller of the same SQL must do.
func rawRun(ctx context.Context, db *sql.DB, q string, args []any) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
	}
	return rows.Err()
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// BenchmarkReads runs, on a generated 7-day ledger of PERMD_BENCH_ROWS
// rows (default 10 million) over 300 apps, the reads a privacy center
// makes, each through the Reader and as the same SQL run directly.
func BenchmarkReads(b *testing.B) {
	rows := envInt("PERMD_BENCH_ROWS", 10_000_000)
	t1 := time.Now()
	path, end := generate(b, rows, 7, 300)
	b.Logf("ledger of %d rows ready in %s (%s)", rows, time.Since(t1).Round(time.Millisecond), path)
	db, err := store.OpenReadOnly(path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	st, _ := os.Stat(path)
	r := NewReader(db)
	ctx := context.Background()
	for b.Loop() {
		b.ReportMetric(float64(st.Size())/float64(rows), "bytes/row")
		for _, c := range readCases(end) {
			q, args := c.sql(ctx, r)
			plan, err := queryPlan(ctx, db, q, args)
			if err != nil {
				b.Fatal(err)
			}
			for _, p := range plan {
				b.Logf("%s: EXPLAIN QUERY PLAN: %s", c.name, p)
			}
			const reps = 21
			var svc, raw []time.Duration
			// Alternate which goes first so that neither always finds
			// the other's pages in cache.
			for i := range reps {
				for k := range 2 {
					t1 := time.Now()
					if (i+k)%2 == 0 {
						if err := c.service(ctx, r); err != nil {
							b.Fatal(err)
						}
						svc = append(svc, time.Since(t1))
					} else {
						if err := rawRun(ctx, db, q, args); err != nil {
							b.Fatal(err)
						}
						raw = append(raw, time.Since(t1))
					}
				}
			}
			ms, mr := median(svc), median(raw)
			b.ReportMetric(float64(ms.Microseconds()), c.name+"-us")
			b.ReportMetric(float64(mr.Microseconds()), c.name+"-sql-us")
			b.ReportMetric(float64(ms)/float64(mr), c.name+"-ratio")
		}
	}
}

// TestReadsUseIndexes proves, on a small generated ledger, that each read
// the benchmarks time is answered from an index, never a full scan.
func TestReadsUseIndexes(t *testing.T) {
	path, end := generate(t, 30000, 7, 300)
	db, err := store.OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := NewReader(db)
	ctx := context.Background()
	uid := 10150
	cases := readCases(end)
	cases = append(cases, readCase{name: "count-since",
		sql: func(ctx context.Context, r *Reader) (string, []any) {
			return `SELECT COALESCE(SUM(n), 0) FROM ledger_event WHERE app IN (SELECT id FROM ledger_app WHERE uid = ?) AND cat = (SELECT id FROM ledger_code WHERE code = ?) AND t >= ? AND t + dur >= ?`,
				[]any{uid, "location", end.Add(-2 * time.Hour).UnixMilli(), end.Add(-time.Hour).UnixMilli()}
		}})
	for _, c := range cases {
		q, args := c.sql(ctx, r)
		plan, err := queryPlan(ctx, db, q, args)
		if err != nil {
			t.Fatal(err)
		}
		joined := strings.Join(plan, " | ")
		if !strings.Contains(joined, "ledger_event USING") || strings.Contains(joined, "SCAN ledger_event") {
			t.Errorf("%s: want an index search on ledger_event, got plan %q", c.name, joined)
		}
		t.Logf("%s: %s", c.name, joined)
		if c.service != nil {
			if err := c.service(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	rep, err := r.Verify(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("generated ledger: want it to verify, got %+v %v", rep.FirstBad, err)
	}
	n, err := r.CountSince(ctx, uid, "location", []string{"allowed", "denied"}, end.Add(-7*24*time.Hour))
	if err != nil || n == 0 {
		t.Errorf("CountSince on generated ledger: want > 0, got %d %v", n, err)
	}
}
