package preinstall

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestCheckPathsProgress: every APK checked is reported once, the last
// report being total of total, from several workers without overlap.
func TestCheckPathsProgress(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.apk", "b.apk", "sub/c.apk", "sub/d.apk", "e.apk"} {
		p := filepath.Join(dir, n)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("not a zip"), 0o644)
	}
	var mu sync.Mutex
	inside := false
	var seen []int
	c := &Checker{Registry: registryOf(t), Now: today, Workers: 3, Progress: func(done, total int) {
		if inside {
			t.Error("Progress called while another call runs")
		}
		inside = true
		mu.Lock()
		seen = append(seen, done*10+total)
		mu.Unlock()
		inside = false
	}}
	res, err := c.CheckPaths(dir)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.APKs != 5 || len(seen) != 5 {
		t.Fatalf("progress calls %v for %d APKs, want 5", seen, res.Summary.APKs)
	}
	for i, v := range seen {
		if v != (i+1)*10+5 {
			t.Errorf("progress call %d = done %d total %d, want %d of 5", i, v/10, v%10, i+1)
		}
	}
}
