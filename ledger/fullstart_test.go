package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"permd/ledger/store"
)

// TestUsesLeftOpenRecordedAfterAFullDiskStart: a ledger that starts on a
// full disk cannot record the uses a crash left in progress; it starts
// degraded, and the first commit after space returns records each of
// them once (reason daemon_restart) before anything else, and the chain
// verifies.
func TestUsesLeftOpenRecordedAfterAFullDiskStart(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	span := Record{Time: t0, UID: 10100, Kind: "span", Category: "camera", Op: "android:camera", Result: "allowed", Detail: json.RawMessage(`{"pid":42}`)}
	f.l.EnqueueUses([]OpenUse{{ID: 1, Start: t0, Recs: []Record{span}}}, nil)
	if err := f.l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	crashed := copyFile(t, f.path) // what a crash leaves: the use still open

	dir := filepath.Join(t.TempDir(), "small")
	os.MkdirAll(dir, 0o770)
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=2m,mode=0770"); err != nil {
		t.Skipf("SKIP: cannot mount a tmpfs for a full disk (needs root): %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	path := filepath.Join(dir, store.FileName)
	for _, suffix := range []string{"", "-wal"} {
		if b, err := os.ReadFile(crashed + suffix); err == nil {
			if err := os.WriteFile(path+suffix, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Fill what is left, so that the restart's first commit cannot write.
	filler := filepath.Join(dir, "filler")
	fh, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for n := len(buf); n > 0; n /= 2 {
		for {
			if _, err := fh.Write(buf[:n]); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				break
			}
		}
	}
	fh.Close()

	clk := &clock{t: t0.Add(time.Minute)}
	l, err := Open(ctx, db, Options{Rules: defaultRules(t), Now: clk.Now, SelfUID: 1000})
	if err != nil {
		t.Fatalf("open on a full disk: %v; want a degraded start", err)
	}
	defer l.Close()
	if msg, _, _ := l.WriteFailure(); msg == "" {
		t.Skip("SKIP: the restart's commit fit in the space left; the full-disk start was not exercised")
	}

	os.Remove(filler)
	clk.Add(time.Second)
	if err := l.Append(ctx, acc(10100, "camera", "allowed", "foreground", clk.Now())); err != nil {
		t.Fatalf("append after space returned: %v", err)
	}
	p, err := l.Query(ctx, Filter{Kind: "span"}, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	restarts := 0
	for _, e := range p.Events {
		var m map[string]any
		json.Unmarshal(e.Detail, &m)
		if m["reason"] == ReasonDaemonRestart {
			restarts++
		}
	}
	if restarts != 1 {
		t.Fatalf("span rows after space returned: %+v; want the use left open recorded once with reason %s", p.Events, ReasonDaemonRestart)
	}
	if rep := mustVerify(t, l.Reader); !rep.OK {
		t.Fatalf("verify after the degraded start: %+v", rep)
	}
}
