package indicator

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestSnapshotJSONMatchesEncodingJSON holds the hand-written encoder to
// the bytes encoding/json writes for the same snapshot, over random
// snapshots with awkward strings, times and optional fields.
func TestSnapshotJSONMatchesEncodingJSON(t *testing.T) {
	pieces := []string{"com.a", "camera", "相机", "\"", "\\", "<b>&", "\u2028", "\u2029", "\x00", "\x1f", "\n\r\t\b\f", "\xff", "é", "🙂", ""}
	str := func(r *rand.Rand) string {
		var b strings.Builder
		for range r.IntN(4) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		return b.String()
	}
	zones := []*time.Location{time.UTC, time.FixedZone("CST", 8*3600), time.FixedZone("odd", -(3*3600 + 30*60))}
	tm := func(r *rand.Rand) time.Time {
		return time.Unix(r.Int64N(4e9), r.Int64N(1e9)*int64(r.IntN(2))).In(zones[r.IntN(len(zones))])
	}
	for seed := range uint64(500) {
		r := rand.New(rand.NewPCG(seed, 3))
		s := &Snapshot{Seq: r.Uint64(), Time: tm(r)}
		for range r.IntN(4) {
			rs := ResourceState{Resource: str(r), Icon: str(r), On: r.IntN(2) == 0}
			if r.IntN(5) > 0 {
				rs.Labels = map[string]string{}
				for range r.IntN(4) {
					rs.Labels[str(r)] = str(r)
				}
			}
			if r.IntN(5) > 0 {
				rs.Apps = []AppState{}
			}
			for range r.IntN(3) {
				a := AppState{UID: r.IntN(2_000_000) - 10, Package: str(r), Active: r.IntN(5), Since: tm(r)}
				if r.IntN(2) == 0 {
					h := tm(r)
					a.HeldUntil = &h
				}
				for range r.IntN(3) {
					a.Via = append(a.Via, Party{UID: r.IntN(20000), Package: str(r), PID: r.IntN(3) * r.IntN(40000)})
				}
				rs.Apps = append(rs.Apps, a)
			}
			s.Resources = append(s.Resources, rs)
		}
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.JSON(); string(got) != string(want) {
			t.Fatalf("seed %d:\ngot  %s\nwant %s", seed, got, want)
		}
	}
}
