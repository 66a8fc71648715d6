package grants

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"
	"time"
)

var updateFudgeVectors = flag.Bool("update-fudge-vectors", false, "rewrite the location fudging vectors the Java precision code is tested with")

// fudgeVectorsFile is read by the Java precision code's host test
// (aosp/apps/PermdBridge/core/tests): the patch to LocationProviderManager
// computes the same answer as loc.fudge from the same per-user offset.
const fudgeVectorsFile = "../aosp/apps/PermdBridge/core/tests/testdata/fudge_vectors.ndjson"

// fudgeVector is one case: the offset Fudge used and its inputs and outputs.
type fudgeVector struct {
	OX        float64 `json:"ox"`
	OY        float64 `json:"oy"`
	Lat       float64 `json:"lat"`
	Lon       float64 `json:"lon"`
	RadiusM   float64 `json:"radius_m"`
	AccuracyM float64 `json:"accuracy_m"`
	WantLat   float64 `json:"want_lat"`
	WantLon   float64 `json:"want_lon"`
	WantAcc   float64 `json:"want_accuracy_m"`
}

// TestFudgeVectorsFile checks the shared vectors against this Fudge. Each
// case stores the per-user offset Fudge used (read back from the fudger
// at the same instant) and is replayed with that offset pinned, so the
// file depends only on the grid math, not on how the secret is drawn or
// kept: the offset is permd's secret, the math is what Java shares.
func TestFudgeVectorsFile(t *testing.T) {
	clk := newClock()
	f := testFudger(clk)
	points := [][2]float64{
		{31.2304, 121.4737}, {39.9087, 116.3975}, {0, 0}, {-33.8688, 151.2093}, {51.4779, -0.0015},
		{89.95, 10}, {-89.95, -170}, {22.3193, 179.9999}, {64.1466, -21.9426}, {1e-9, -1e-9},
	}
	radii := []float64{0, 200, 1000, 3000, 25000, 100000}
	var buf bytes.Buffer
	for user := 0; user < 3; user++ {
		for i, p := range points {
			for _, r := range radii {
				acc := float64(5 + i*300)
				ox, oy := f.offset(user)
				lat, lon, a := f.Fudge(user, p[0], p[1], r, acc)
				v := fudgeVector{OX: ox, OY: oy, Lat: p[0], Lon: p[1], RadiusM: r, AccuracyM: acc, WantLat: lat, WantLon: lon, WantAcc: a}
				b, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				buf.Write(append(b, '\n'))
			}
		}
		clk.Add(37 * time.Hour) // later users see a drifted offset of their own
	}
	if *updateFudgeVectors {
		if err := os.WriteFile(fudgeVectorsFile, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(fudgeVectorsFile)
	if err != nil {
		t.Fatalf("%v (generate with: go test ./grants -run TestFudgeVectorsFile -update-fudge-vectors)", err)
	}
	// Compare case by case, so that a change names the case it broke.
	hl, wl := bytes.Split(bytes.TrimSpace(have), []byte("\n")), bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(hl) != len(wl) {
		t.Fatalf("%s has %d cases, Fudge gives %d: regenerate with -update-fudge-vectors", fudgeVectorsFile, len(hl), len(wl))
	}
	for i := range hl {
		var h, w fudgeVector
		json.Unmarshal(hl[i], &h)
		json.Unmarshal(wl[i], &w)
		// The offset is secret-dependent; the grid math must match exactly.
		lat, lon, a := fudgeWith(h.OX, h.OY, h.Lat, h.Lon, h.RadiusM, h.AccuracyM)
		if lat != h.WantLat || lon != h.WantLon || a != h.WantAcc {
			t.Errorf("case %d %s: Fudge's math gives (%v, %v, %v)", i+1, hl[i], lat, lon, a)
		}
		if h.Lat != w.Lat || h.Lon != w.Lon || h.RadiusM != w.RadiusM || h.AccuracyM != w.AccuracyM {
			t.Errorf("case %d: inputs in the file %s differ from the generator's %s: regenerate", i+1, hl[i], wl[i])
		}
	}
}

// fudgeWith replays Fudge's grid math with a given offset, through a
// fudger whose offset for user 0 is pinned to (ox, oy).
func fudgeWith(ox, oy, lat, lon, r, acc float64) (float64, float64, float64) {
	clk := newClock()
	f := testFudger(clk)
	f.offset(0)
	f.offsets[0].x, f.offsets[0].y = ox, oy
	return f.Fudge(0, lat, lon, r, acc)
}
