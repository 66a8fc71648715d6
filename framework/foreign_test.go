package framework

import (
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"permd/framework/frameworktest/harness"
	"permd/ledger/store"
)

// TestNewerSchemaRefusedBeforeSealing: a database whose grants schema is
// newer than this binary's, with rows a crash left open, is refused at
// start with an error naming the file and what to do, and stays
// byte-for-byte as it was: the open rows are not sealed, no journal mode
// changes, nothing is added.
func TestNewerSchemaRefusedBeforeSealing(t *testing.T) {
	dir := harness.TempDir(t)
	d := startDaemonProc(t, dir)
	c := d.dial(t)
	recs := make([]any, 50)
	for i := range recs {
		recs[i] = map[string]any{"uid": 10160 + i%5, "kind": "access", "category": "camera", "result": "allowed", "app_state": "foreground"}
	}
	if err := c.Call(t.Context(), "ledger.report", map[string]any{"records": recs}, nil); err != nil {
		t.Fatal(err)
	}
	d.kill()

	path := filepath.Join(dir, "data", store.FileName)
	db, err := store.OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	// As a newer permd would leave it: the grants schema at version 99.
	// The driver alone, so nothing of permd runs on the file.
	raw, err := sql.Open(map[bool]string{true: "sqlite3", false: "sqlite"}[store.Driver == "mattn/go-sqlite3"], "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE schema_version SET version = 99 WHERE component = 'grants'`); err != nil {
		t.Fatal(err)
	}
	var open int
	raw.QueryRow(`SELECT COUNT(*) FROM ledger_recent WHERE hash IS NULL`).Scan(&open)
	if _, err := raw.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if open == 0 {
		t.Fatal("the crash left no open rows; the test proves nothing")
	}
	before := fileSum(t, path)

	svc, err := New(Options{DataDir: filepath.Join(dir, "data"), ConfigDir: filepath.Join(dir, "config"), SocketPath: filepath.Join(dir, "s2"),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil {
		svc.lock.release()
		svc.db.Close()
		t.Fatal("a database with a newer grants schema was accepted")
	}
	if !errors.Is(err, store.ErrNewerSchema) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "move the file") {
		t.Errorf("refusal: %v; want ErrNewerSchema naming %s and the recovery", err, path)
	}
	if fileSum(t, path) != before {
		t.Error("the refused database changed")
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		t.Errorf("the refused database has %d bytes of new WAL", fi.Size())
	}
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
