package grants

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"permd/ledger/store"
)

// The shared decision vectors: cases (grant, instant, time zone, app
// state, past accesses) and the decision this engine makes for each,
// committed for the Java client's evaluator, which must reproduce every
// one (aosp/java/client/tests). Regenerate after changing the engine:
//
//	go test ./grants -run TestDecisionVectors -update-vectors
var updateVectors = flag.Bool("update-vectors", false, "rewrite the shared decision vectors")

// vectorsFile is where the Java tests read the vectors.
const vectorsFile = "../aosp/java/client/tests/testdata/decisions.ndjson"

// vectorCases is how many cases are tried; cases the engine refuses to
// set (e.g. windows it does not accept) are left out and counted.
const vectorCases = 3000

// vectorZones are IANA zones with unusual offsets and DST rules; names,
// not offsets, so that a regeneration follows the zone rules.
var vectorZones = []string{"UTC", "Asia/Shanghai", "Europe/London", "America/New_York", "Asia/Kolkata",
	"Asia/Kathmandu", "Australia/Lord_Howe", "America/St_Johns", "Pacific/Chatham", "Europe/Berlin"}

// vectorInput is one case's input, as the Java evaluator takes it.
type vectorInput struct {
	Zone  string `json:"zone"`   // IANA name of the policy's time zone
	NowMS int64  `json:"now_ms"` // the instant of the check
	State string `json:"state"`  // app state the caller gives; "" unknown
	// Count is the number of served accesses the ledger holds in the
	// grant's current frequency window.
	Count int64 `json:"count"`
	Grant Grant `json:"grant"` // as grants.set returned it
}

type vectorLine struct {
	Input    vectorInput     `json:"input"`
	Decision json.RawMessage `json:"decision"`
}

type vectorHeader struct {
	Format     string           `json:"format"`
	Regenerate string           `json:"regenerate"`
	Seed       uint64           `json:"seed"`
	Tried      int              `json:"tried"`
	Refused    int              `json:"refused"`
	Categories []vectorCategory `json:"categories"`
}

// vectorCategory is what a decision needs of a category (as
// policy.subscribe sends it).
type vectorCategory struct {
	ID           string  `json:"id"`
	Background   string  `json:"background"`
	DefaultLevel string  `json:"default_level"`
	Levels       []Level `json:"levels"`
}

// fixedCounter answers CountSince with the case's past accesses.
type fixedCounter struct {
	mu sync.Mutex
	n  map[int]int64
}

func (c *fixedCounter) CountSince(_ context.Context, uid int, _ string, _ []string, _ time.Time) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[uid], nil
}

// generateVectors runs every case through a real engine on a real SQLite
// file and returns the vectors file.
func generateVectors(t testing.TB, seed uint64) []byte {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cat, st := openStore(t, db)
	clk := newClock()
	counter := &fixedCounter{n: map[int]int64{}}
	eng, err := NewEngine(Config{Catalogue: cat, Store: st, Counter: counter, Now: clk.Now, Policy: DefaultPolicy(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()

	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var body bytes.Buffer
	refused := 0
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range vectorCases {
		c := &cat.Categories[r.IntN(len(cat.Categories))]
		in := vectorInput{Zone: vectorZones[r.IntN(len(vectorZones))]}
		loc, err := time.LoadLocation(in.Zone)
		if err != nil {
			t.Fatalf("zone %s: %v", in.Zone, err)
		}
		set := base.Add(time.Duration(r.Int64N(int64(365 * 24 * time.Hour)))).Truncate(time.Millisecond)
		g := randomGrant(r, c, set)
		g.Package = fmt.Sprintf("com.vector.app%d", i)
		uid := 10000 + i
		clk.Set(set)
		pol := DefaultPolicy()
		pol.Location = loc
		eng.SetPolicy(pol)
		out, err := eng.Set(context.Background(), g, BySettings)
		if err != nil {
			var pe *ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("set %+v: %v", g, err)
			}
			refused++
			continue
		}
		in.Grant = out
		now := set.Add(randomOffset(r)).Truncate(time.Millisecond)
		in.NowMS = now.UnixMilli()
		in.State = []string{"", StateForeground, StateVisible, StateBackground, StateNotRunning}[r.IntN(5)]
		if f := out.Frequency; f != nil {
			in.Count = r.Int64N(int64(f.Max) + 2)
		}
		counter.mu.Lock()
		counter.n[uid] = in.Count
		counter.mu.Unlock()
		clk.Set(now)
		d := eng.Check(Query{UID: uid, Packages: []string{out.Package}, Category: c.ID, State: in.State})
		dj, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		line, err := json.Marshal(vectorLine{Input: in, Decision: dj})
		if err != nil {
			t.Fatal(err)
		}
		body.Write(line)
		body.WriteByte('\n')
	}
	cats := make([]vectorCategory, len(cat.Categories))
	for i, c := range cat.Categories {
		// Only what a decision needs: labels and risks are not inputs.
		lv := make([]Level, len(c.Levels))
		for j, l := range c.Levels {
			l.Label = nil
			lv[j] = l
		}
		cats[i] = vectorCategory{ID: c.ID, Background: c.Background, Levels: lv, DefaultLevel: c.DefaultLevel}
	}
	head, err := json.Marshal(vectorHeader{Format: "permd-decision-vectors/1",
		Regenerate: "go test ./grants -run TestDecisionVectors -update-vectors",
		Seed:       seed, Tried: vectorCases, Refused: refused, Categories: cats})
	if err != nil {
		t.Fatal(err)
	}
	return append(append(head, '\n'), body.Bytes()...)
}

// randomGrant draws a grant for c, valid or not: the engine decides.
func randomGrant(r *rand.Rand, c *Category, set time.Time) Grant {
	g := Grant{Category: c.ID, Decision: Allow}
	if r.IntN(10) == 0 {
		g.Decision = Deny
		return g
	}
	// once is left to permd (its answer depends on session history the
	// cache does not hold), so the vectors do not include it.
	modes := []string{ModeWhileInUse, ModeDuration, ModeUntil, ModeWindow, ModeAlways}
	g.Time.Mode = modes[r.IntN(len(modes))]
	switch g.Time.Mode {
	case ModeDuration:
		g.Time.For = []string{"1h", "24h", "168h", "90m", "1h30m", "45s", "2h0m30s", "1.5h"}[r.IntN(8)]
	case ModeUntil:
		g.Time.Until = set.Add(time.Duration(1 + r.Int64N(int64(72*time.Hour)))).Truncate(time.Second).UTC()
	case ModeWindow:
		h1, m1 := r.IntN(24), []int{0, 15, 30, 45, 59}[r.IntN(5)]
		h2, m2 := r.IntN(25), []int{0, 15, 30, 45, 59}[r.IntN(5)]
		if h2 == 24 {
			m2 = 0
		}
		g.Time.Window = fmt.Sprintf("%02d:%02d-%02d:%02d", h1, m1, h2, m2)
	}
	if g.Time.Mode != ModeWhileInUse {
		g.Time.Background = r.IntN(2) == 0
	}
	if r.IntN(3) == 0 {
		g.Frequency = &Frequency{Max: 1 + r.IntN(5), Per: []string{"minute", "hour", "day", "session"}[r.IntN(4)]}
	}
	if r.IntN(4) != 0 {
		l := c.Levels[r.IntN(len(c.Levels))]
		g.Precision.Level = l.ID
		if l.Custom {
			g.Precision.RadiusM = l.MinRadiusM + r.IntN(l.MaxRadiusM-l.MinRadiusM+1)
		}
		if l.Effect == EffectSelected && r.IntN(2) == 0 {
			g.Precision.Items = []string{"item1", "item2"}[:1+r.IntN(2)]
		}
	}
	return g
}

// randomOffset is how long after the grant the check happens: mostly
// within a few days, sometimes right at an end.
func randomOffset(r *rand.Rand) time.Duration {
	switch r.IntN(4) {
	case 0:
		return time.Duration(r.Int64N(int64(2 * time.Hour)))
	case 1:
		return []time.Duration{0, time.Hour, 90 * time.Minute, 24 * time.Hour, 168 * time.Hour, 45 * time.Second}[r.IntN(6)]
	}
	return time.Duration(r.Int64N(int64(4 * 24 * time.Hour)))
}

const vectorSeed = 14

// TestDecisionVectors regenerates the shared vectors from this engine and
// compares them with the committed file: it fails when the engine's
// decisions (or the generator) changed and the Java tests would check
// against stale expectations.
func TestDecisionVectors(t *testing.T) {
	got := generateVectors(t, vectorSeed)
	if *updateVectors {
		if err := os.MkdirAll(filepath.Dir(vectorsFile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorsFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", vectorsFile)
		return
	}
	want, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatalf("read vectors (generate them with -update-vectors): %v", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			t.Fatalf("%s is stale at line %d (regenerate: go test ./grants -run TestDecisionVectors -update-vectors)\nengine:    %.400s\ncommitted: %.400s", vectorsFile, i+1, g[i], w[i])
		}
	}
	t.Fatalf("%s is stale: %d lines, engine makes %d (regenerate with -update-vectors)", vectorsFile, len(w), len(g))
}
