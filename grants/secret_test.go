package grants

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"permd/ledger/store"
)

// TestFudgeSecretPersistsAndRotates: a fudger on the same database after
// a "restart" (a new Fudger, nothing shared but SQLite) recomputes
// exactly the offset the first had, drift included; users have their own
// secrets; once fudge_rotation has passed since a secret was drawn, a new
// one replaces it and is what the next restart sees.
func TestFudgeSecretPersistsAndRotates(t *testing.T) {
	path := filepath.Join(t.TempDir(), store.FileName)
	_, st := openStore(t, openDB(t, path))
	clk := newClock()
	rotation := 30 * 24 * time.Hour
	start := func() *Fudger {
		f := NewFudger(clk.Now, func() time.Duration { return time.Hour }, nil)
		f.Persist(st, func() time.Duration { return rotation }, nil)
		return f
	}
	f1 := start()
	x0, y0 := f1.offset(0)
	u10x, u10y := f1.offset(10)
	if x0 == u10x && y0 == u10y {
		t.Fatal("users 0 and 10 share one offset; want a secret per user")
	}
	clk.Add(5*time.Hour + 30*time.Minute)
	x1, y1 := f1.offset(0)
	f2 := start()
	if x, y := f2.offset(0); x != x1 || y != y1 {
		t.Fatalf("after a restart the offset is (%v, %v), want the first run's (%v, %v)", x, y, x1, y1)
	}
	if x, y := f2.offset(10); x == u10x && y == u10y {
		t.Fatal("user 10's offset did not drift over 5 hours")
	}
	clk.Add(rotation)
	x2, y2 := f2.offset(0)
	f3 := start()
	if x, y := f3.offset(0); x != x2 || y != y2 {
		t.Fatalf("after rotation and a restart the offset is (%v, %v), want the rotated (%v, %v)", x, y, x2, y2)
	}
	seed, created, ok, err := st.LoadSecret(context.Background(), 0)
	if err != nil || !ok || !created.Equal(time.UnixMilli(clk.Now().UnixMilli())) || seed == ([32]byte{}) {
		t.Fatalf("stored secret after rotation: created %v ok %v err %v, want drawn at %v", created, ok, err, clk.Now())
	}
}
