package framework

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"permd/aosp/wait"
	"permd/framework/frameworktest/harness"
	"permd/ledger"
	"permd/ledger/store"
)

// fillLedger runs a daemon on data and records n distinct rows, then
// stops it, which merges and checkpoints them into the database file.
func fillLedger(t *testing.T, data string, n int) {
	t.Helper()
	ts := startTestService(t, testOptions{Data: data})
	now := time.Now().UnixMilli()
	for i := 0; i < n; i += 250 {
		recs := make([]any, 0, 250)
		for j := i; j < min(i+250, n); j++ {
			recs = append(recs, map[string]any{"time_ms": now - int64(n-j), "uid": 10000 + j%50, "kind": "access", "category": "camera",
				"op": fmt.Sprintf("android:op%d", j), "result": "allowed", "app_state": "foreground"})
		}
		if err := ts.call(t, "ledger.report", map[string]any{"records": recs}, nil); err != nil {
			t.Fatal(err)
		}
	}
	ts.stop(t)
}

// firstLeaf follows the leftmost child pointers from a b-tree's root page
// to its first leaf page, reading the file as SQLite lays it out.
func firstLeaf(t *testing.T, f *os.File, page, pageSize int) int {
	t.Helper()
	buf := make([]byte, pageSize)
	for {
		if _, err := f.ReadAt(buf, int64(page-1)*int64(pageSize)); err != nil {
			t.Fatal(err)
		}
		hdr := 0
		if page == 1 {
			hdr = 100
		}
		switch buf[hdr] {
		case 0x0d, 0x0a: // table leaf, index leaf
			return page
		case 0x05, 0x02: // interior: the first cell starts with its left child
			cell := binary.BigEndian.Uint16(buf[hdr+12:])
			page = int(binary.BigEndian.Uint32(buf[cell:]))
		default:
			t.Fatalf("page %d: not a b-tree page (type %#x)", page, buf[hdr])
		}
	}
}

// damage overwrites the first leaf page of the named table or index of
// the database at path with garbage, as a failing flash block would.
func damage(t *testing.T, path, name string) int {
	t.Helper()
	db, err := store.OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	var pageSize, root int
	db.QueryRow(`PRAGMA page_size`).Scan(&pageSize)
	if err := db.QueryRow(`SELECT rootpage FROM sqlite_master WHERE name = ?`, name).Scan(&root); err != nil {
		t.Fatal(err)
	}
	db.Close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	leaf := firstLeaf(t, f, root, pageSize)
	if leaf == root {
		t.Fatalf("%s has a single page; record more rows", name)
	}
	junk := []byte(strings.Repeat("\x5a", pageSize))
	if _, err := f.WriteAt(junk, int64(leaf-1)*int64(pageSize)); err != nil {
		t.Fatal(err)
	}
	return leaf
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	os.MkdirAll(filepath.Dir(to), 0o770)
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedDatabaseReported: a real database with one table page or
// one index page overwritten starts, says in health and in verify that
// the file is damaged and where, and keeps serving what it can (recent
// records, decisions).
func TestDamagedDatabaseReported(t *testing.T) {
	good := filepath.Join(harness.TempDir(t), "data")
	fillLedger(t, good, 6000)
	for _, name := range []string{"ledger_event", "ledger_event_t"} {
		t.Run(name, func(t *testing.T) {
			data := filepath.Join(harness.TempDir(t), "data")
			path := filepath.Join(data, store.FileName)
			copyFile(t, filepath.Join(good, store.FileName), path)
			page := damage(t, path, name)

			ts := startTestService(t, testOptions{Data: data})
			var h Health
			wait.Until(t, "the start-up integrity check", func() bool {
				h = Health{}
				return ts.call(t, "sys.health", nil, &h) == nil && !h.Storage.IntegrityChecking
			})
			if h.Status != "degraded" || h.Storage.OK || len(h.Storage.Integrity) == 0 || !strings.Contains(h.Storage.Error, "damaged") ||
				!strings.Contains(h.Storage.Error, "move the file") {
				t.Errorf("health with page %d of %s damaged: %+v; want degraded, naming the damage and the recovery", page, name, h.Storage)
			}
			var rep ledger.CheckedReport
			if err := ts.call(t, "ledger.verify", nil, &rep); err != nil {
				t.Fatalf("verify on a damaged file: %v; want a report", err)
			}
			if rep.OK || len(rep.Integrity) == 0 || !strings.Contains(strings.Join(rep.Integrity, " "), fmt.Sprint(page)) {
				t.Errorf("verify with page %d of %s damaged: %+v; want not ok, naming the page", page, name, rep)
			}
			// What can be served is served: the newest records, decisions.
			var p ledger.Page
			if err := ts.call(t, "ledger.query", map[string]any{"limit": 10}, &p); err != nil || len(p.Events) == 0 {
				t.Errorf("newest records on a damaged file: %v, %d events", err, len(p.Events))
			}
			// What touches the damage fails with the storage code.
			for _, m := range []string{"ledger.timeline", "ledger.summary", "ledger.export"} {
				if err := ts.call(t, m, map[string]any{}, nil); err != nil && rpcCode(err) != CodeUnavailable {
					t.Errorf("%s on a damaged file: %v; want success or code %d", m, err, CodeUnavailable)
				}
			}
			var d map[string]any
			if err := ts.call(t, "perm.check", map[string]any{"uid": 10123, "package": "com.example.maps", "category": "location"}, &d); err != nil {
				t.Errorf("perm.check on a damaged file: %v", err)
			}
		})
	}
}
