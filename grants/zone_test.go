package grants

import (
	"context"
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

// TestWindowVectors: daily windows read the wall clock of the instant in
// the zone given, including windows across midnight and DST changes (the
// skipped hour never occurs, a repeated hour is in the window both
// times). Each vector goes through Evaluate, the pure decision.
func TestWindowVectors(t *testing.T) {
	utc := func(s string) time.Time {
		at, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return at
	}
	for _, v := range []struct {
		zone, window, at string
		in               bool
	}{
		// Asia/Shanghai, UTC+8, no DST.
		{"Asia/Shanghai", "09:00-18:00", "2026-06-01T01:00:00Z", true},  // 09:00
		{"Asia/Shanghai", "09:00-18:00", "2026-06-01T00:59:59Z", false}, // 08:59:59
		{"Asia/Shanghai", "09:00-18:00", "2026-06-01T09:59:59Z", true},  // 17:59:59
		{"Asia/Shanghai", "09:00-18:00", "2026-06-01T10:00:00Z", false}, // 18:00
		// Across midnight.
		{"Asia/Shanghai", "22:00-06:00", "2026-06-01T14:00:00Z", true},  // 22:00
		{"Asia/Shanghai", "22:00-06:00", "2026-06-01T13:59:00Z", false}, // 21:59
		{"Asia/Shanghai", "22:00-06:00", "2026-06-01T16:00:00Z", true},  // 00:00 next day
		{"Asia/Shanghai", "22:00-06:00", "2026-06-01T21:59:00Z", true},  // 05:59
		{"Asia/Shanghai", "22:00-06:00", "2026-06-01T22:00:00Z", false}, // 06:00
		{"UTC", "22:00-06:00", "2026-06-01T12:00:00Z", false},
		{"UTC", "00:00-24:00", "2026-06-01T23:59:59Z", true},
		// New York, spring forward 2026-03-08 02:00 EST → 03:00 EDT:
		// a 02:00-03:00 window does not occur that day.
		{"America/New_York", "02:00-03:00", "2026-03-08T06:59:00Z", false}, // 01:59 EST
		{"America/New_York", "02:00-03:00", "2026-03-08T07:00:00Z", false}, // 03:00 EDT
		{"America/New_York", "02:00-03:00", "2026-03-09T06:30:00Z", true},  // 02:30 EDT next day
		// Fall back 2026-11-01 02:00 EDT → 01:00 EST: 01:00-02:00 twice.
		{"America/New_York", "01:00-02:00", "2026-11-01T05:00:00Z", true},  // 01:00 EDT
		{"America/New_York", "01:00-02:00", "2026-11-01T06:30:00Z", true},  // 01:30 EST
		{"America/New_York", "01:00-02:00", "2026-11-01T07:00:00Z", false}, // 02:00 EST
		// A window across midnight on the night London changes to BST
		// (2026-03-29 01:00 GMT → 02:00 BST).
		{"Europe/London", "22:00-06:00", "2026-03-29T00:30:00Z", true},  // 00:30 GMT
		{"Europe/London", "22:00-06:00", "2026-03-29T04:59:00Z", true},  // 05:59 BST
		{"Europe/London", "22:00-06:00", "2026-03-29T05:00:00Z", false}, // 06:00 BST
	} {
		zone := mustZone(t, v.zone)
		g := &Grant{Category: "location", Decision: Allow, Time: TimeRule{Mode: ModeWindow, Window: v.window, Background: true}}
		out := Evaluate(Input{Grant: g, Level: Level{Effect: EffectFull}, At: utc(v.at), Zone: zone, App: AppView{State: StateBackground}})
		if got := out.Result == ResultAllowed; got != v.in {
			t.Errorf("%s %s at %s (%s local): %+v, want in window %v", v.zone, v.window, v.at, utc(v.at).In(zone).Format("15:04 MST"), out, v.in)
		}
		if !v.in && out.Reason != "outside_window" {
			t.Errorf("%s %s at %s: reason %q, want outside_window", v.zone, v.window, v.at, out.Reason)
		}
		if in, err := InWindow(v.window, utc(v.at), zone); err != nil || in != v.in {
			t.Errorf("InWindow(%s, %s, %s) = %v, %v; want %v", v.window, v.at, v.zone, in, err, v.in)
		}
	}
}

// TestDayStartsAtLocalMidnight: day windows of frequency caps start at
// local midnight, 23 and 25 hours apart across DST changes.
func TestDayStartsAtLocalMidnight(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	for _, v := range []struct {
		at   time.Time
		want time.Time
		len  time.Duration
	}{
		{time.Date(2026, 3, 8, 12, 0, 0, 0, ny), time.Date(2026, 3, 8, 5, 0, 0, 0, time.UTC), 23 * time.Hour},
		{time.Date(2026, 11, 1, 12, 0, 0, 0, ny), time.Date(2026, 11, 1, 4, 0, 0, 0, time.UTC), 25 * time.Hour},
	} {
		start := WindowStart(v.at, "day", ny)
		next := WindowStart(start.Add(26*time.Hour), "day", ny)
		if !start.Equal(v.want) || next.Sub(start) != v.len {
			t.Errorf("day of %v: starts %v (want %v), lasts %v (want %v)", v.at, start.UTC(), v.want, next.Sub(start), v.len)
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
	f.clk.t = time.Date(2026, 6, 1, 14, 30, 0, 0, time.UTC)
	f.eng.SetZone(mustZone(t, "Asia/Shanghai"))
	g := f.set(Grant{Category: "location", Time: TimeRule{Mode: ModeWindow, Window: "22:00-06:00", Background: true}})
	if d := f.check("location", StateBackground); !d.Allowed {
		t.Fatalf("22:30 in Shanghai: %+v, want allowed", d)
	}
	f.eng.SetZone(mustZone(t, "Europe/Berlin"))
	if d := f.check("location", StateBackground); d.Allowed || d.Reason != "outside_window" {
		t.Fatalf("16:30 in Berlin: %+v, want outside_window", d)
	}
	f.clk.add(6 * time.Hour) // 22:30 in Berlin
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
	f.clk.t = time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC) // 23:00 Shanghai, 08:00 Los Angeles
	f.eng.SetZone(mustZone(t, "Asia/Shanghai"))
	f.set(Grant{Category: "location", Time: TimeRule{Mode: ModeAlways, Background: true}, Frequency: &Frequency{Max: 3, Per: "day"}})
	for i := range 3 {
		if d := f.check("location", StateBackground); !d.Allowed {
			t.Fatalf("check %d: %+v", i+1, d)
		}
		f.clk.add(time.Minute)
	}
	if d := f.check("location", StateBackground); d.Result != ResultRateLimited {
		t.Fatalf("4th check in Shanghai: %+v, want rate_limited", d)
	}
	f.eng.SetZone(mustZone(t, "America/Los_Angeles"))
	if d := f.check("location", StateBackground); d.Result != ResultRateLimited {
		t.Fatalf("after moving to Los Angeles the same day: %+v, want still rate_limited", d)
	}
	f.clk.t = time.Date(2026, 6, 2, 7, 0, 0, 0, time.UTC) // 00:00 in Los Angeles
	if d := f.check("location", StateBackground); !d.Allowed || d.Remaining != 2 {
		t.Fatalf("next Los Angeles day: %+v, want allowed with 2 left", d)
	}
}
