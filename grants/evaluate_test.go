package grants

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestEngineAgreesWithEvaluate: the engine's Check and the pure
// Evaluate give the same result and reason for random grants (every
// time mode but once, which depends on lifecycle history the engine
// builds itself, with and without background use, frequency caps and
// levels), instants, zones and app states; the frequency input is the
// count of accesses the test saw served in the current window.
func TestEngineAgreesWithEvaluate(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 6))
	zones := []string{"UTC", "Asia/Shanghai", "America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Lord_Howe"}
	windows := []string{"09:00-18:00", "22:00-06:00", "00:00-24:00", "23:30-00:30", "01:00-02:00"}
	levels := []string{"exact", "approx_1km", "city"}
	for i := range 25 {
		f := newFixture(t)
		zone := mustZone(t, zones[rng.IntN(len(zones))])
		f.eng.SetZone(zone)
		f.clk.Set(time.Date(2026, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), 0, 0, time.UTC))
		g := Grant{Category: "location", Precision: Precision{Level: levels[rng.IntN(len(levels))]}}
		switch rng.IntN(5) {
		case 0:
			g.Time = TimeRule{Mode: ModeWhileInUse}
		case 1:
			g.Time = TimeRule{Mode: ModeDuration, For: "3h", Background: rng.IntN(2) == 0}
		case 2:
			g.Time = TimeRule{Mode: ModeUntil, Until: f.clk.Now().Add(5 * time.Hour), Background: rng.IntN(2) == 0}
		case 3:
			g.Time = TimeRule{Mode: ModeWindow, Window: windows[rng.IntN(len(windows))], Background: rng.IntN(2) == 0}
		default:
			g.Time = TimeRule{Mode: ModeAlways, Background: true}
		}
		if rng.IntN(2) == 0 {
			g.Frequency = &Frequency{Max: 1 + rng.IntN(4), Per: []string{"minute", "hour", "day"}[rng.IntN(3)]}
		}
		set := f.set(g)
		cat, _ := f.eng.cat.Category("location")
		lvl, _ := cat.Level(set.Precision.Level)
		served := map[time.Time]int64{}
		for range 30 {
			state := []string{StateForeground, StateVisible, StateBackground}[rng.IntN(3)]
			var used int64
			if set.Frequency != nil {
				used = served[WindowStart(f.clk.Now(), set.Frequency.Per, zone)]
			}
			want := Evaluate(Input{Grant: &set, Level: lvl, At: f.clk.Now(), Zone: zone, App: AppView{State: state},
				OnceGrace: time.Minute, OnceDeathGrace: 5 * time.Second, Used: used})
			got := f.check("location", state)
			if got.Result != want.Result || got.Reason != want.Reason || got.Remaining != want.Remaining {
				t.Fatalf("case %d: grant %s in %s at %s (%s): Check %s/%s remaining %d, Evaluate %s/%s remaining %d",
					i, set.Summary(), zone, f.clk.Now().In(zone).Format(time.RFC3339), state, got.Result, got.Reason, got.Remaining, want.Result, want.Reason, want.Remaining)
			}
			if want.Counted {
				served[WindowStart(f.clk.Now(), set.Frequency.Per, zone)]++
			}
			if want.Expired {
				break
			}
			f.clk.Add(time.Duration(rng.IntN(40)) * time.Minute)
		}
	}
}
