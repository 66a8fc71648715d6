package framework

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"permd/aosp/wait"
	"permd/framework/frameworktest/harness"
	"permd/ledger"
	"permd/ledger/store"
)

// smallFS mounts a tmpfs of size bytes at dir for the test's life; it
// skips the test where mounting is not allowed (not root, no mount
// namespace rights).
func smallFS(t *testing.T, dir, size string) {
	t.Helper()
	os.MkdirAll(dir, 0o770)
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0770"); err != nil {
		t.Skipf("cannot mount a tmpfs for a full disk (need root): %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
}

// fill writes a file until the filesystem is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 16<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	for _, n := range []int{4096, 512, 64, 1} { // the last partial blocks
		for {
			if _, err := f.Write(buf[:n]); err != nil {
				break
			}
		}
	}
	f.Sync()
}

// TestDiskFull: with the data dir on a full 3 MiB filesystem, writes
// get the storage-failing code, health says storage is failing and why,
// decisions and the indicator keep working and every decision is either
// recorded or counted in an overload row; the daemon starts on the full
// disk and recovers by itself when space returns; nothing acknowledged is
// lost and the file passes integrity_check with its WAL checkpointed.
func TestDiskFull(t *testing.T) {
	dir := harness.TempDir(t)
	data := filepath.Join(dir, "data")
	smallFS(t, data, "3m")

	ts := startTestService(t, testOptions{Data: data})
	uid := 10150
	acked := 0
	report := func(ts *testService, n int, tag string) error {
		recs := make([]any, n)
		for i := range recs {
			recs[i] = map[string]any{"uid": uid, "kind": "access", "category": "contacts", "result": "allowed", "app_state": "background",
				"op": tag + "-" + string(rune('a'+i%26)) + strings.Repeat("x", i%97)}
		}
		err := ts.call(t, "ledger.report", map[string]any{"records": recs}, nil)
		if err == nil {
			acked += n
		}
		return err
	}
	if err := report(ts, 100, "before"); err != nil {
		t.Fatal(err)
	}
	// The WAL is checkpointed: it never holds the whole database.
	wait.Until(t, "WAL checkpointed into the database", func() bool {
		wal, err := os.Stat(filepath.Join(data, store.FileName+"-wal"))
		main, _ := os.Stat(filepath.Join(data, store.FileName))
		return err != nil || wal.Size() < main.Size()
	})

	fill(t, filepath.Join(data, "filler"))
	// Keep writing until the disk refuses: the WAL may hold reusable
	// space for a few commits.
	var werr error
	for i := 0; i < 500 && werr == nil; i++ {
		werr = report(ts, 200, "full")
	}
	if werr == nil {
		t.Fatal("reports never failed on a full disk")
	}
	if c := rpcCode(werr); c != CodeUnavailable || !strings.Contains(werr.Error(), "full") {
		t.Fatalf("report on a full disk: %v; want code %d saying the disk is full", werr, CodeUnavailable)
	}

	// Other writes fail with the same code, never as an internal error.
	for i := range 20 {
		err := ts.call(t, "grants.set", map[string]any{"package": "com.example.full", "category": "contacts", "time": map[string]any{"mode": "while_in_use"},
			"frequency": map[string]any{"max": i + 1, "per": "hour"}}, nil)
		if i == 0 {
			t.Logf("grants.set on a full disk: %v", err)
		}
		if err != nil && rpcCode(err) != CodeUnavailable {
			t.Fatalf("grants.set on a full disk: %v; want success or code %d", err, CodeUnavailable)
		}
	}

	checks, checkUID := 40, 10151
	whileFull := func(ts *testService) {
		t.Helper()
		for range checks / 2 {
			var d map[string]any
			if err := ts.call(t, "perm.check", map[string]any{"uid": checkUID, "package": "com.example.full", "category": "location"}, &d); err != nil {
				t.Fatalf("perm.check on a full disk: %v", err)
			}
		}
		var st started
		if err := ts.call(t, "op.start", map[string]any{"resource": "camera", "uid": checkUID, "package": "com.example.full"}, &st); err != nil {
			t.Fatalf("op.start on a full disk: %v", err)
		}
		var snap snapshotMsg
		if err := ts.call(t, "indicator.get", nil, &snap); err != nil || !snap.on("camera") {
			t.Fatalf("indicator on a full disk: %+v %v", snap, err)
		}
		ts.call(t, "op.finish", map[string]any{"use": st.Use}, nil)
		wait.Until(t, "health saying storage is failing", func() bool {
			var h Health
			return ts.call(t, "sys.health", nil, &h) == nil && h.Status == "degraded" && !h.Storage.OK &&
				strings.Contains(h.Storage.Error, "full") && h.Storage.WriteFailingSinceMS > 0
		})
		var p ledger.Page
		if err := ts.call(t, "ledger.query", map[string]any{"uid": uid, "limit": 5}, &p); err != nil || len(p.Events) == 0 {
			t.Fatalf("reading the record on a full disk: %v %d", err, len(p.Events))
		}
	}
	whileFull(ts)

	// Restart on the full disk: the daemon starts, degraded.
	ts.stop(t)
	ts = startTestService(t, testOptions{Data: data})
	whileFull(ts)

	// Space returns: the daemon recovers by itself.
	os.Remove(filepath.Join(data, "filler"))
	wait.Until(t, "health ok after space returned", func() bool {
		var h Health
		return ts.call(t, "sys.health", nil, &h) == nil && h.Status == "ok" && h.Storage.OK && h.Storage.Unrecorded == 0
	})
	if err := report(ts, 10, "after"); err != nil {
		t.Fatalf("report after space returned: %v", err)
	}
	ts.stop(t)

	db, err := store.OpenReadOnly(filepath.Join(data, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ic string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&ic); err != nil || ic != "ok" {
		t.Errorf("integrity_check after the full disk: %q %v", ic, err)
	}
	sum := func(q string, args ...any) int {
		var n int
		if err := db.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := sum(`SELECT COALESCE(SUM(e.n), 0) FROM ledger_all e JOIN ledger_app a ON a.id = e.app WHERE a.uid = ?`, uid); got != acked {
		t.Errorf("records of uid %d: %d, want the %d acknowledged", uid, got, acked)
	}
	recorded := sum(`SELECT COALESCE(SUM(e.n), 0) FROM ledger_all e JOIN ledger_app a ON a.id = e.app JOIN ledger_code k ON k.id = e.kind
		WHERE a.uid = ? AND k.code = 'access'`, checkUID)
	var counted int
	rows, err := db.Query(`SELECT e.detail FROM ledger_all e JOIN ledger_code k ON k.id = e.kind WHERE k.code = 'overload'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d string
		rows.Scan(&d)
		var o struct {
			Dropped int    `json:"dropped"`
			Reason  string `json:"reason"`
		}
		json.Unmarshal([]byte(d), &o)
		counted += o.Dropped
		t.Logf("overload row: %s", d)
	}
	rows.Close()
	if counted == 0 || recorded+counted < checks {
		t.Errorf("decisions on a full disk: %d recorded + %d counted in overload rows; want all %d, with the loss recorded", recorded, counted, checks)
	}
	rep, err := ledger.NewReader(db).CheckAndVerify(context.Background())
	if err != nil || !rep.OK {
		t.Errorf("verify after the full disk: %+v %v", rep, err)
	}
	wal, _ := os.Stat(filepath.Join(data, store.FileName+"-wal"))
	main, _ := os.Stat(filepath.Join(data, store.FileName))
	if wal != nil && wal.Size() >= main.Size() {
		t.Errorf("WAL %d bytes holds as much as the database (%d bytes)", wal.Size(), main.Size())
	}
}
