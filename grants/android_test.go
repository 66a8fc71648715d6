package grants

import (
	"testing"
	"time"
)

// TestOffsetIsWhatFudgeUses: the offset Offset hands to system_server,
// put through Fudge's grid math, gives exactly Fudge's answers, in two
// periods (the offset drifts between them) and for two users; next is
// the end of the current period.
func TestOffsetIsWhatFudgeUses(t *testing.T) {
	clk := newClock()
	f := testFudger(clk)
	for period := 0; period < 2; period++ {
		for _, user := range []int{0, 7} {
			x, y, next := f.Offset(user)
			if want := clk.Now().Truncate(time.Hour).Add(time.Hour); !next.Equal(want) {
				t.Errorf("user %d: next %v, want %v", user, next, want)
			}
			for _, r := range []float64{1000, 5000, 25000} {
				lat, lon, acc := f.Fudge(user, 31.2304, 121.4737, r, 5)
				wlat, wlon, wacc := fudgeWith(x, y, 31.2304, 121.4737, r, 5)
				if lat != wlat || lon != wlon || acc != wacc {
					t.Errorf("period %d user %d radius %v: Fudge (%v, %v, %v), grid with Offset's (%v, %v) gives (%v, %v, %v)",
						period, user, r, lat, lon, acc, x, y, wlat, wlon, wacc)
				}
			}
		}
		x0, y0, _ := f.Offset(0)
		clk.Add(time.Hour)
		if x1, y1, _ := f.Offset(0); x1 == x0 && y1 == y0 {
			t.Errorf("period %d: the offset did not drift over an hour", period)
		}
	}
	if _, ok := actorCodes[ByAndroid]; !ok {
		t.Error("ByAndroid has no actor code: changes by android could not be stored")
	}
	for by, code := range actorCodes {
		if by != ByAndroid && code == actorCodes[ByAndroid] {
			t.Errorf("actor %s shares code %d with %s", by, code, ByAndroid)
		}
	}
}
