//go:build !android

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"permd/aosp/adb"
)

// TestPullStartsOverWhenTheDatabaseChanges: a checkpoint between the
// database and its WAL would pair an old database with a restarted WAL;
// the pull must notice the database changed and copy both again.
func TestPullStartsOverWhenTheDatabaseChanges(t *testing.T) {
	d := testDevice(t, hostKey(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := adb.Dial(ctx, d.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := t.TempDir()
	remote := filepath.Join(dir, "remote.db")
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(remote, "database before the checkpoint")
	write(remote+"-wal", "wal before the checkpoint")
	local := filepath.Join(dir, "copy.db")

	// The checkpoint lands after the first WAL copy: the second attempt
	// must hold the new pair.
	calls := 0
	got, err := pullDatabase(ctx, c, remote, local, func() {
		calls++
		if calls == 1 {
			write(remote, "database after the checkpoint")
			write(remote+"-wal", "restarted wal")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.attempts != 2 {
		t.Errorf("attempts = %d, want 2 (the first copy was made before the checkpoint)", got.attempts)
	}
	for name, want := range map[string]string{local: "database after the checkpoint", local + "-wal": "restarted wal"} {
		if b, _ := os.ReadFile(name); !bytes.Equal(b, []byte(want)) {
			t.Errorf("%s = %q, want %q", filepath.Base(name), b, want)
		}
	}

	// Nothing changes: one attempt; no -wal on the device leaves none
	// (not even a stale one) next to the copy.
	os.Remove(remote + "-wal")
	got, err = pullDatabase(ctx, c, remote, local, nil)
	if err != nil || got.attempts != 1 || got.wal != -1 {
		t.Errorf("quiet pull: %+v, %v; want one attempt and no wal", got, err)
	}
	if _, err := os.Stat(local + "-wal"); err == nil {
		t.Error("a -wal from the earlier pull is still next to the copy")
	}

	// A file that changes every time: a clear error, not an endless loop.
	n := 0
	_, err = pullDatabase(ctx, c, remote, local, func() {
		n++
		write(remote, strings.Repeat("x", n))
	})
	if err == nil || !strings.Contains(err.Error(), "changed during each of") || n != maxPullAttempts {
		t.Errorf("always changing: err %v after %d attempts, want the change named after %d", err, n, maxPullAttempts)
	}
}
