package grants

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"permd/aosp/testclock"
)

func testFudger(clk *testclock.Clock) *Fudger {
	seed := [32]byte{1, 2, 3}
	return NewFudger(clk.Now, func() time.Duration { return time.Hour }, &seed)
}

// TestFudgeStatistics checks the two promises of loc.fudge over many
// true positions at latitudes from the equator to 70°:
//   - a fudged point is on average as far from the truth as the granted
//     radius implies (snap error plus offset: expected about 0.48 r; we
//     require at least 0.35 r), and never further than the offset can
//     explain;
//   - averaging many answers does not get closer: within a period all
//     answers are identical, and over a simulated month of hourly queries
//     the mean of all answers stays about as far from the truth as one
//     answer.
func TestFudgeStatistics(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for _, radius := range []float64{1000, 3000, 10000} {
		clk := newClock()
		fu := testFudger(clk)
		const positions = 300
		var single, averaged float64
		for i := range positions {
			lat := rng.Float64()*140 - 70
			lon := rng.Float64()*360 - 180
			user := i // a fresh offset per simulated user
			la, lo, acc := fu.Fudge(user, lat, lon, radius, 5)
			if acc != radius {
				t.Fatalf("reported accuracy %v, want the radius %v", acc, radius)
			}
			d := DistanceM(lat, lon, la, lo)
			single += d
			if d > 3*radius {
				t.Fatalf("r=%v: fudged point %v m away, more than 3 r", radius, d)
			}
			// Same period: identical answers, so averaging gains nothing.
			for range 50 {
				la2, lo2, _ := fu.Fudge(user, lat, lon, radius, 5)
				if la2 != la || lo2 != lo {
					t.Fatalf("r=%v: answer changed within a period", radius)
				}
			}
		}
		// Averaging over a month of hourly answers for the same place.
		for i := range 60 {
			lat := rng.Float64()*140 - 70
			lon := rng.Float64()*360 - 180
			user := 100000 + i
			clk := newClock()
			fu := testFudger(clk)
			var sumLat, sumLon float64
			const hours = 720
			for range hours {
				la, lo, _ := fu.Fudge(user, lat, lon, radius, 5)
				sumLat += la
				sumLon += lo
				clk.Add(time.Hour)
			}
			averaged += DistanceM(lat, lon, sumLat/hours, sumLon/hours)
		}
		meanSingle := single / positions / radius
		meanAvg := averaged / 60 / radius
		t.Logf("r=%v m: mean error of one answer %.2f r, of a month's average %.2f r", radius, meanSingle, meanAvg)
		if meanSingle < 0.35 {
			t.Errorf("r=%v: mean error %.2f r, want >= 0.35 r", radius, meanSingle)
		}
		if meanAvg < 0.25 || meanAvg < 0.5*meanSingle {
			t.Errorf("r=%v: averaging a month of answers brings the mean error to %.2f r (one answer: %.2f r); want >= 0.25 r and >= 0.5x", radius, meanAvg, meanSingle)
		}
	}
}

// TestFudgeSamePointForAllAppsOfAUser: apps of one user get the same
// answer, so colluding apps cannot average different answers.
func TestFudgeSamePointForAllAppsOfAUser(t *testing.T) {
	fu := testFudger(newClock())
	a1, o1, _ := fu.Fudge(0, 31.2304, 121.4737, 3000, 10)
	a2, o2, _ := fu.Fudge(0, 31.2304, 121.4737, 3000, 10)
	if a1 != a2 || o1 != o2 {
		t.Fatal("two queries of the same user differ within a period")
	}
	if la, lo, acc := fu.Fudge(0, 31.2304, 121.4737, 0, 10); la != 31.2304 || lo != 121.4737 || acc != 10 {
		t.Fatal("exact grant changed the point")
	}
}

// TestFudgeOffsetDriftsSlowly: the offset is stable within a period and
// changes a little each period.
func TestFudgeOffsetDriftsSlowly(t *testing.T) {
	clk := newClock()
	fu := testFudger(clk)
	x0, y0 := fu.offset(0)
	clk.Add(59 * time.Minute)
	if x, y := fu.offset(0); x != x0 || y != y0 {
		t.Fatal("offset changed within the period")
	}
	clk.Add(time.Minute)
	x1, y1 := fu.offset(0)
	if x1 == x0 && y1 == y0 {
		t.Fatal("offset did not drift at the period boundary")
	}
	if d := math.Hypot(x1-x0, y1-y0); d > 0.5 {
		t.Fatalf("one period moved the offset by %.2f sd; drift should be small", d)
	}
}
