package framework

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"permd/aosp/testclock"
	"permd/grants"
)

// TestFudgedLocationsDoNotAverageAcrossRestarts: a 1 km location grant is
// asked for the same 20 places after each of 12 daemon restarts on one
// data dir (an hour apart). The location secret is kept in the database,
// so the restarts add no independent samples: the average of the 12
// answers is as far from the truth as one answer, where a secret redrawn
// at every start averaged to about a quarter of it.
func TestFudgedLocationsDoNotAverageAcrossRestarts(t *testing.T) {
	clk := testclock.New(time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC))
	data := filepath.Join(t.TempDir(), "data")
	rng := rand.New(rand.NewPCG(3, 5))
	type place struct{ lat, lon float64 }
	places := make([]place, 20)
	for i := range places {
		places[i] = place{rng.Float64()*120 - 60, rng.Float64()*360 - 180}
	}
	const restarts, radius = 12, 1000.0
	sumLat := make([]float64, len(places))
	sumLon := make([]float64, len(places))
	var single float64
	for r := range restarts {
		ts := grantsService(t, clk, data)
		c := ts.dial(t)
		if r == 0 {
			mustCall(t, c, "grants.set", map[string]any{"uid": 10123, "package": "com.example.maps", "category": "location",
				"time": map[string]any{"mode": "always", "background": true}, "precision": map[string]any{"level": "approx_1km"}}, nil)
		}
		for i, p := range places {
			var res FudgeResult
			mustCall(t, c, "loc.fudge", map[string]any{"uid": 10123, "package": "com.example.maps", "lat": p.lat, "lon": p.lon}, &res)
			sumLat[i] += res.Lat
			sumLon[i] += res.Lon
			single += grants.DistanceM(p.lat, p.lon, res.Lat, res.Lon)
		}
		c.Close()
		ts.stop(t)
		clk.Add(time.Hour)
	}
	single /= restarts * float64(len(places))
	var averaged float64
	for i, p := range places {
		averaged += grants.DistanceM(p.lat, p.lon, sumLat[i]/restarts, sumLon[i]/restarts)
	}
	averaged /= float64(len(places))
	t.Logf("mean error of one answer %.0f m, of the average over %d restarts %.0f m", single, restarts, averaged)
	if single < 0.35*radius {
		t.Fatalf("one answer is on average %.0f m from the truth; want at least %.0f m for a %.0f m grant", single, 0.35*radius, radius)
	}
	if averaged < 0.8*single {
		t.Fatalf("averaging %d restarts' answers brings the error from %.0f m to %.0f m; want at least 80%% of one answer's error", restarts, single, averaged)
	}
}
