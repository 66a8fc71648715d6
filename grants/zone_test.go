package grants

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("zone %s: %v (time/tzdata is embedded, so every IANA zone must load)", name, err)
	}
	return loc
}

// zoneVectors is testdata/zone_vectors.json: the window and day cases
// another implementation of the decision (the Java evaluator) must
// reproduce.
type zoneVectors struct {
	Windows []struct {
		Zone, Window, At, Local string
		In                      bool
	}
	Days []struct {
		Zone, At, Start, Local string
		Hours                  int
	}
}

func loadZoneVectors(t *testing.T) zoneVectors {
	t.Helper()
	b, err := os.ReadFile("testdata/zone_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v zoneVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Windows) == 0 || len(v.Days) == 0 {
		t.Fatal("testdata/zone_vectors.json holds no vectors")
	}
	return v
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// TestWindowVectors: daily windows read the wall clock of the instant in
// the zone given, including windows across midnight and DST changes (the
// skipped hour never occurs, a repeated hour is in the window both
// times). Each vector goes through Evaluate, the pure decision.
func TestWindowVectors(t *testing.T) {
	for _, v := range loadZoneVectors(t).Windows {
		zone := mustZone(t, v.Zone)
		at := mustTime(t, v.At)
		g := &Grant{Category: "location", Decision: Allow, Time: TimeRule{Mode: ModeWindow, Window: v.Window, Background: true}}
		out := Evaluate(Input{Grant: g, Level: Level{Effect: EffectFull}, At: at, Zone: zone, App: AppView{State: StateBackground}})
		if got := out.Result == ResultAllowed; got != v.In {
			t.Errorf("%s %s at %s (%s, %s): %+v, want in window %v", v.Zone, v.Window, v.At, at.In(zone).Format("15:04 MST"), v.Local, out, v.In)
		}
		if !v.In && out.Reason != "outside_window" {
			t.Errorf("%s %s at %s: reason %q, want outside_window", v.Zone, v.Window, v.At, out.Reason)
		}
		if in, err := InWindow(v.Window, at, zone); err != nil || in != v.In {
			t.Errorf("InWindow(%s, %s, %s) = %v, %v; want %v", v.Window, v.At, v.Zone, in, err, v.In)
		}
	}
}

// TestDayStartsAtLocalMidnight: day windows of frequency caps start at
// local midnight, 23 and 25 hours apart across DST changes.
func TestDayStartsAtLocalMidnight(t *testing.T) {
	for _, v := range loadZoneVectors(t).Days {
		zone := mustZone(t, v.Zone)
		start := WindowStart(mustTime(t, v.At), "day", zone)
		next := WindowStart(start.Add(26*time.Hour), "day", zone)
		if !start.Equal(mustTime(t, v.Start)) || next.Sub(start) != time.Duration(v.Hours)*time.Hour {
			t.Errorf("day of %s in %s (%s): starts %v (want %s), lasts %v (want %dh)", v.At, v.Zone, v.Local, start.UTC(), v.Start, next.Sub(start), v.Hours)
		}
	}
}

// TestZoneChangeDuringAWindow: the engine follows the device's zone
// without a restart. A 22:00-06:00 grant checked at 22:30 in Shanghai is
// served; the device moves to Berlin (16:30 there): the same instant is
// outside the window; back in Shanghai it is served again. The grant
// itself and its history never change.
func TestZoneChangeDuringAWindow(t *testing.T) {
	f := newFixture(t)
	f.clk.Set(time.Date(2026, 6, 1, 14, 30, 0, 0, time.UTC))
	f.eng.SetZone(mustZone(t, "Asia/Shanghai"))
	g := f.set(Grant{Category: "location", Time: TimeRule{Mode: ModeWindow, Window: "22:00-06:00", Background: true}})
	if d := f.check("location", StateBackground); !d.Allowed {
		t.Fatalf("22:30 in Shanghai: %+v, want allowed", d)
	}
	f.eng.SetZone(mustZone(t, "Europe/Berlin"))
	if d := f.check("location", StateBackground); d.Allowed || d.Reason != "outside_window" {
		t.Fatalf("16:30 in Berlin: %+v, want outside_window", d)
	}
	f.clk.Add(6 * time.Hour) // 22:30 in Berlin
	if d := f.check("location", StateBackground); !d.Allowed {
		t.Fatalf("22:30 in Berlin: %+v, want allowed", d)
	}
	f.eng.SetZone(mustZone(t, "Asia/Shanghai")) // 04:30 next morning there
	if d := f.check("location", StateBackground); !d.Allowed {
		t.Fatalf("04:30 in Shanghai: %+v, want allowed", d)
	}
	cur, hist, err := f.eng.Get(context.Background(), 0, appPkg, "location", 10)
	if err != nil || cur == nil || cur.Version != g.Version || len(hist) != 1 {
		t.Fatalf("after zone changes: grant %+v history %d err %v; want the grant unchanged with one history entry", cur, len(hist), err)
	}
}

// TestDayCapSurvivesAZoneChange: a 3/day cap used up late in the
// Shanghai day stays used up when the device moves to Los Angeles, where
// it is still the morning of the same calendar day: the day counter is
// recounted from the record since the new zone's midnight, not reset.
// The next Los Angeles day serves again.
func TestDayCapSurvivesAZoneChange(t *testing.T) {
	f := newFixture(t)
	f.clk.Set(time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC)) // 23:00 Shanghai, 08:00 Los Angeles
	f.eng.SetZone(mustZone(t, "Asia/Shanghai"))
	f.set(Grant{Category: "location", Time: TimeRule{Mode: ModeAlways, Background: true}, Frequency: &Frequency{Max: 3, Per: "day"}})
	for i := range 3 {
		if d := f.check("location", StateBackground); !d.Allowed {
			t.Fatalf("check %d: %+v", i+1, d)
		}
		f.clk.Add(time.Minute)
	}
	if d := f.check("location", StateBackground); d.Result != ResultRateLimited {
		t.Fatalf("4th check in Shanghai: %+v, want rate_limited", d)
	}
	f.eng.SetZone(mustZone(t, "America/Los_Angeles"))
	if d := f.check("location", StateBackground); d.Result != ResultRateLimited {
		t.Fatalf("after moving to Los Angeles the same day: %+v, want still rate_limited", d)
	}
	f.clk.Set(time.Date(2026, 6, 2, 7, 0, 0, 0, time.UTC)) // 00:00 in Los Angeles
	if d := f.check("location", StateBackground); !d.Allowed || d.Remaining != 2 {
		t.Fatalf("next Los Angeles day: %+v, want allowed with 2 left", d)
	}
}
