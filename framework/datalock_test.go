package framework

import (
	"context"
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"permd/framework/frameworktest/harness"
	"permd/ledger"
	"permd/ledger/store"
)

// dataFiles hashes the database and its WAL as they are on disk.
func dataFiles(t *testing.T, dataDir string) [32]byte {
	t.Helper()
	h := sha256.New()
	for _, n := range []string{store.FileName, store.FileName + "-wal"} {
		b, err := os.ReadFile(filepath.Join(dataDir, n))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		h.Write([]byte(n))
		h.Write(b)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// TestSecondInstanceChangesNothing: a second permd started on the data
// dir of a live one (a real second process) is refused by the data-dir
// lock before it opens the database: the files stay byte-for-byte as
// they were, the live daemon's open row keeps counting, and the record
// verifies afterwards.
func TestSecondInstanceChangesNothing(t *testing.T) {
	dir := harness.TempDir(t)
	d := startDaemonProc(t, dir)
	data := filepath.Join(dir, "data")
	c := d.dial(t)
	uid := 10177
	rec := map[string]any{"uid": uid, "kind": "access", "category": "camera", "result": "allowed", "app_state": "foreground"}
	report := func(n int) {
		t.Helper()
		recs := make([]any, n)
		for i := range recs {
			recs[i] = rec
		}
		if err := c.Call(context.Background(), "ledger.report", map[string]any{"records": recs}, nil); err != nil {
			t.Fatal(err)
		}
	}
	report(5) // one open row, count 5, inside its 60 s window

	// Let the start-up records seal and merge: then the live daemon has
	// nothing to write until the open row's window ends.
	prev := dataFiles(t, data)
	for stable := 0; stable < 2; {
		time.Sleep(1500 * time.Millisecond)
		cur := dataFiles(t, data)
		if cur == prev {
			stable++
		} else {
			stable = 0
		}
		prev = cur
	}

	exe, _ := os.Executable()
	second := exec.Command(exe)
	second.Env = append(os.Environ(), envChild+"=daemon", envSocket+"="+d.socket,
		"PERMD_TEST_ROOT="+filepath.Join(dir, "root"), "PERMD_TEST_DATA="+data, "PERMD_TEST_CONFIG="+filepath.Join(dir, "config"))
	var stderr harness.Buffer
	second.Stderr = &stderr
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- second.Wait() }()
	select {
	case err := <-exited:
		if err == nil {
			t.Fatalf("second instance exited 0; want a refusal\n%s", stderr.String())
		}
	case <-time.After(30 * time.Second):
		second.Process.Kill()
		t.Fatal("second instance neither served nor exited")
	}
	if msg := stderr.String(); !strings.Contains(msg, "is locked by pid") || !strings.Contains(msg, data) {
		t.Errorf("refusal does not name the data dir and the holder:\n%s", msg)
	}
	if after := dataFiles(t, data); after != prev {
		t.Error("the refused second instance changed the database or its WAL")
	}

	report(5)
	d.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-d.exited; err != nil {
		t.Fatalf("live daemon exit: %v\n%s", err, d.stderr.String())
	}
	db, err := store.OpenReadOnly(filepath.Join(data, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COALESCE(SUM(e.n), 0) FROM ledger_all e JOIN ledger_app a ON a.id = e.app WHERE a.uid = ?`, uid).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 10 {
		t.Errorf("events recorded for uid %d: %d, want the 10 the live daemon acknowledged", uid, n)
	}
	rep, err := ledger.NewReader(db).Verify(context.Background())
	if err != nil || !rep.OK {
		t.Errorf("verify after the refused second instance: %+v %v", rep, err)
	}
}

// TestDataDirLockReleasedAfterRun: the lock is held from New to the end
// of Run, and a clean stop lets the next daemon take it.
func TestDataDirLockReleasedAfterRun(t *testing.T) {
	ts := startTestService(t, testOptions{})
	if _, err := lockDataDir(ts.dataDir); err == nil {
		t.Fatal("data dir lock taken while a daemon runs")
	}
	ts.stop(t)
	l, err := lockDataDir(ts.dataDir)
	if err != nil {
		t.Fatalf("lock after a clean stop: %v", err)
	}
	l.release()
}
