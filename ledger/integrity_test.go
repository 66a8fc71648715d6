package ledger

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"permd/ledger/store"
)

// sealedLedger writes a small ledger of several kinds, closes it (all
// rows sealed) and returns the database path.
func sealedLedger(t *testing.T) string {
	t.Helper()
	f := newFixture(t, map[int][]string{10100: {"com.a"}, 10200: {"com.b"}})
	ctx := context.Background()
	for i := range 20 {
		at := t0.Add(time.Duration(i) * 2 * time.Minute)
		f.clk.Set(at)
		if err := f.l.Append(ctx,
			acc(10100+100*(i%2), "camera", "allowed", "foreground", at),
			Record{Time: at, UID: 10100, Kind: "grant_change", Category: "camera", Detail: json.RawMessage(fmt.Sprintf(`{"by":"user","to":"once%d"}`, i))},
		); err != nil {
			t.Fatal(err)
		}
	}
	f.l.Close()
	f.db.Close()
	return f.path
}

func copyFile(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), store.FileName)
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(src + suffix)
		if err != nil {
			continue
		}
		if err := os.WriteFile(dst+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func verifyFile(t *testing.T, path string) VerifyReport {
	t.Helper()
	db, err := store.OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rep, err := NewReader(db).Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// unmerge puts the newest rows back into ledger_recent, as if the writer
// had not merged them yet.
const unmerge = `INSERT INTO ledger_recent SELECT * FROM ledger_event WHERE seq > 30; DELETE FROM ledger_event WHERE seq > 30; `

func TestTamperingIsDetected(t *testing.T) {
	base := sealedLedger(t)
	if rep := verifyFile(t, base); !rep.OK || rep.Sealed != 40 || rep.Open != 0 {
		t.Fatalf("untouched ledger: want ok with 40 sealed rows, got %+v", rep)
	}
	t.Run("split between tables", func(t *testing.T) {
		path := copyFile(t, base)
		db, err := store.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(unmerge); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if rep := verifyFile(t, path); !rep.OK || rep.Sealed != 40 {
			t.Fatalf("rows not yet merged: want ok with 40 sealed rows, got %+v %+v", rep, rep.FirstBad)
		}
	})
	// The fixture is deterministic, and so is each tampered row's full
	// hash. A row sealed since schema 4 stores one byte of it, so a change
	// keeps the row's tag with probability 1/256 and verify then names the
	// next row of its kind (docs/ledger-storage.md, "Row tags"); each
	// change below was picked so that it does not, and a change to the
	// fixture or to what a row hashes (the rules version is part of it)
	// may need another value.
	for _, tc := range []struct {
		name, sql string
		seq       int64 // the first row verify must name
	}{
		{"count changed", `UPDATE ledger_event SET n = 2 WHERE seq = 7`, 7},
		{"time changed", `UPDATE ledger_event SET t = t - 1000 WHERE seq = 9`, 9},
		{"result changed", `UPDATE ledger_event SET res = (SELECT id FROM ledger_code WHERE code = 'denied') WHERE seq = 11`, 11},
		{"detail changed", `UPDATE ledger_event SET detail = '{"by":"system","to":"once1"}' WHERE seq = 4`, 4},
		// A removed row is named itself (the sequence has a gap there).
		{"middle row deleted", `DELETE FROM ledger_event WHERE seq = 13`, 13},
		{"first row deleted", `DELETE FROM ledger_event WHERE seq = 1`, 1},
		{"newest row deleted", `DELETE FROM ledger_event WHERE seq = 40`, 40},
		{"package renamed", `UPDATE ledger_app SET packages = 'com.evil' WHERE packages = 'com.b'`, 3},
		{"hash replaced", `UPDATE ledger_event SET hash = zeroblob(32) WHERE seq = 21`, 21},
		// Rows not yet merged out of ledger_recent are covered too.
		{"staged row changed", unmerge + `UPDATE ledger_recent SET n = 4 WHERE seq = 35`, 35},
		{"staged row deleted", unmerge + `DELETE FROM ledger_recent WHERE seq = 33`, 33},
		{"row in both tables", unmerge + `INSERT INTO ledger_event SELECT * FROM ledger_recent WHERE seq = 36`, 36},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := copyFile(t, base)
			db, err := store.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(tc.sql); err != nil {
				t.Fatal(err)
			}
			db.Close()
			rep := verifyFile(t, path)
			if rep.OK || rep.FirstBad == nil || rep.FirstBad.Seq != tc.seq {
				t.Fatalf("want verify to fail at row %d, got %+v first bad %+v", tc.seq, rep, rep.FirstBad)
			}
		})
	}
	// A change that keeps its row's one-byte tag (this one does, in this
	// fixture): verify names the next row of the kind and says which
	// earlier row may be the changed one.
	t.Run("changed row keeps its tag", func(t *testing.T) {
		path := copyFile(t, base)
		db, err := store.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(unmerge + `UPDATE ledger_recent SET n = 3 WHERE seq = 35`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		rep := verifyFile(t, path)
		if rep.OK || rep.FirstBad == nil || rep.FirstBad.Seq != 37 || !strings.Contains(rep.FirstBad.Problem, "row 35 of the same kind changed and kept its one-byte tag") {
			t.Fatalf("want verify to fail at row 37 naming row 35 as the possible change, got %+v first bad %+v", rep, rep.FirstBad)
		}
	})
	t.Run("sqlite3 CLI", func(t *testing.T) {
		cli, err := exec.LookPath("sqlite3")
		if err != nil {
			t.Skip("SKIP: sqlite3 CLI not installed (Debian package sqlite3); the SQL cases above cover the same tampering")
		}
		path := copyFile(t, base)
		if out, err := exec.Command(cli, path, `UPDATE ledger_event SET n = n + 1 WHERE seq = 5;`).CombinedOutput(); err != nil {
			t.Fatalf("sqlite3: %v %s", err, out)
		}
		if rep := verifyFile(t, path); rep.OK || rep.FirstBad.Seq != 5 {
			t.Fatalf("want verify to fail at row 5 after a sqlite3 UPDATE, got %+v", rep.FirstBad)
		}
	})
}

func TestRetentionPrunesExactlyWhatRulesSay(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	day := 24 * time.Hour
	now := t0
	type spec struct {
		rec  Record
		keep bool
	}
	mk := func(kind, cat string, age time.Duration, keep bool) spec {
		r := Record{Time: now.Add(-age), UID: 10100, Kind: kind, Category: cat}
		if kind == "access" {
			r.Result = "allowed"
		}
		if kind == "preinstall_finding" {
			r.Result = "fail"
		}
		return spec{r, keep}
	}
	specs := []spec{
		mk("access", "camera", 45*day, false),
		mk("grant_change", "camera", 400*day, false),
		mk("access", "camera", 31*day, false),
		mk("preinstall_finding", "preinstall", 400*day, true), // kept 730 days
		mk("grant_change", "camera", 300*day, true),           // kept 365 days
		mk("access", "camera", 30*day+time.Minute, false),
		mk("user_start", "process", 8*day, false), // kept 7 days
		mk("access", "camera", 30*day-time.Minute, true),
		mk("user_start", "process", 6*day, true),
		mk("overload", "system", 91*day, false),
		mk("access", "camera", time.Hour, true),
		mk("overload", "system", 89*day, true),
	}
	for i, s := range specs {
		s.rec.Op = fmt.Sprint(i) // distinct rows: no coalescing
		if s.rec.Kind != "access" {
			s.rec.Op = ""
			s.rec.Time = s.rec.Time.Add(time.Duration(i) * time.Millisecond)
		}
		if err := f.l.Append(ctx, s.rec); err != nil {
			t.Fatalf("spec %d: %v", i, err)
		}
	}
	if err := f.l.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	rows, _ := f.db.Query(`SELECT seq FROM ledger_all ORDER BY seq`)
	for rows.Next() {
		var s int
		rows.Scan(&s)
		got = append(got, fmt.Sprint(s-1))
	}
	rows.Close()
	var want []string
	for i, s := range specs {
		if s.keep {
			want = append(want, fmt.Sprint(i))
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("after retention: want rows %v kept, got %v", want, got)
	}
	rep := mustVerify(t, f.l.Reader)
	if rep.Pruned != int64(len(specs)-len(want)) {
		t.Errorf("verify: want %d pruned, got %d", len(specs)-len(want), rep.Pruned)
	}
	// Appending after pruning continues every chain from its anchor.
	if err := f.l.Append(ctx, acc(10100, "camera", "denied", "", f.clk.Now())); err != nil {
		t.Fatal(err)
	}
	f.l.Close()
	f.open(t, nil)
	mustVerify(t, f.l.Reader)
}

// TestHelperWriter is not a test: TestKill9LosesNoAcknowledgedRecord runs
// the test binary again with -test.run=TestHelperWriter as the writer
// process it kills.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv("PERMD_LEDGER_HELPER_DB")
	if path == "" {
		t.Skip("helper process only")
	}
	db, err := store.Open(path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	l, err := Open(context.Background(), db, Options{Rules: defaultRules(t), Packages: func(uid int) []string { return []string{fmt.Sprintf("com.app%d", uid)} }})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	var acked atomic.Int64
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				batch := make([]Record, 100)
				for j := range batch {
					uid := 10000 + (i*100+j+g)%50
					batch[j] = Record{UID: uid, Kind: "access", Category: []string{"camera", "location", "contacts"}[j%3], Result: "allowed", AppState: "background"}
					if j%10 == 0 { // some rows that never coalesce
						batch[j] = Record{UID: uid, Kind: "grant_change", Category: "camera", Detail: json.RawMessage(fmt.Sprintf(`{"to":"g%d-%d-%d"}`, g, i, j))}
					}
				}
				if err := l.Append(context.Background(), batch...); err != nil {
					fmt.Println("error", err)
					os.Exit(1)
				}
				n := acked.Add(int64(len(batch)))
				mu.Lock()
				fmt.Fprintf(out, "acked %d\n", n)
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func TestKill9LosesNoAcknowledgedRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: -short: the kill -9 test runs a writer process")
	}
	path := filepath.Join(t.TempDir(), store.FileName)
	var lastAcked int64
	for round := range 3 { // kill, restart, kill again: recovery must itself be crash-safe
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$", "-test.count=1")
		cmd.Env = append(os.Environ(), "PERMD_LEDGER_HELPER_DB="+path)
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		var acked int64
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "error") {
				t.Fatalf("writer: %s", line)
			}
			if n, ok := strings.CutPrefix(line, "acked "); ok {
				acked, _ = strconv.ParseInt(n, 10, 64)
			}
			if acked >= 5000 {
				break
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		go io.Copy(io.Discard, stdout)
		cmd.Wait()
		if acked < 5000 {
			t.Fatalf("round %d: writer stopped after %d acknowledged records", round, acked)
		}
		db, err := store.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var committed int64
		db.QueryRow(`SELECT COALESCE(SUM(n), 0) FROM ledger_all`).Scan(&committed)
		if committed < lastAcked+acked {
			t.Fatalf("round %d: %d records acknowledged in total, only %d in the database", round, lastAcked+acked, committed)
		}
		lastAcked = committed
		l, err := Open(context.Background(), db, Options{Rules: defaultRules(t)})
		if err != nil {
			t.Fatalf("reopen after kill -9: %v", err)
		}
		rep := mustVerify(t, l.Reader)
		if rep.Open != 0 {
			t.Errorf("round %d: want every row sealed at start-up, %d open", round, rep.Open)
		}
		l.Close()
		closeDB(db)
	}
}

func closeDB(db *sql.DB) { db.Close() }
