package grants

import (
	crand "crypto/rand"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Location fudging, after AOSP's LocationFudger:
//
//  1. Each Android user has a secret offset (ox, oy), a 2-D standard
//     Gaussian drawn at start from a generator seeded with crypto/rand.
//  2. Every period (default 1 h) the offset drifts:
//     o' = sqrt(1-a²)·o + a·N(0,1), a = 0.03, so it is stable within a
//     period and decorrelates only over weeks.
//  3. The true point moves by o·r/4 metres (r = granted radius), then
//     snaps to a grid of cell size r: lat step r/111 000 degrees, lon
//     step lat step / cos(lat) (AOSP's grid).
//  4. The reported accuracy is max(r, the fix's own accuracy).
//
// The snap means that within a period every query from the same cell
// gets the same answer, so averaging repeated queries gains nothing; the
// offset hides where in the cell the truth lies and moves the cell
// borders, so that walking across a border does not reveal it exactly.
// The offset is per user, not per package: per-package offsets would let
// several colluding apps average their different answers back towards
// the truth, whereas a shared offset gives them all the same point.
const (
	fudgeDrift       = 0.03
	metresPerDegree  = 111000.0
	maxLatitude      = 89.9
	maxCatchUpPeriod = 10000
)

// Fudger coarsens locations to a granted radius.
type Fudger struct {
	now    func() time.Time
	period func() time.Duration

	mu      sync.Mutex
	rng     *rand.Rand
	offsets map[int]*offset
}

type offset struct {
	x, y  float64
	epoch int64 // period index the offset belongs to
}

// NewFudger makes a fudger with a fresh secret. seed nil means crypto/rand.
func NewFudger(now func() time.Time, period func() time.Duration, seed *[32]byte) *Fudger {
	var s [32]byte
	if seed != nil {
		s = *seed
	} else {
		crand.Read(s[:])
	}
	return &Fudger{now: now, period: period, rng: rand.New(rand.NewChaCha8(s)), offsets: map[int]*offset{}}
}

// Fudge returns (lat, lon) coarsened to radiusM metres for user, and the
// accuracy to report. radiusM <= 0 returns the point unchanged.
func (f *Fudger) Fudge(user int, lat, lon, radiusM, accuracyM float64) (float64, float64, float64) {
	if radiusM <= 0 {
		return lat, lon, accuracyM
	}
	ox, oy := f.offset(user)
	latStep := radiusM / metresPerDegree
	// Move by the secret offset (metres → degrees at this latitude).
	lat += oy * radiusM / 4 / metresPerDegree
	lat = clampLat(lat)
	lonStep := latStep / math.Cos(lat*math.Pi/180)
	lon += ox * radiusM / 4 / (metresPerDegree * math.Cos(lat*math.Pi/180))
	// Snap to the grid: cell centres.
	lat = clampLat((math.Floor(lat/latStep) + 0.5) * latStep)
	lonStep = latStep / math.Cos(lat*math.Pi/180)
	lon = (math.Floor(lon/lonStep) + 0.5) * lonStep
	lon = wrapLon(lon)
	return lat, lon, math.Max(radiusM, accuracyM)
}

func (f *Fudger) offset(user int) (float64, float64) {
	p := f.period()
	if p <= 0 {
		p = time.Hour
	}
	epoch := f.now().UnixNano() / int64(p)
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.offsets[user]
	if o == nil {
		o = &offset{x: f.rng.NormFloat64(), y: f.rng.NormFloat64(), epoch: epoch}
		f.offsets[user] = o
	}
	steps := epoch - o.epoch
	if steps > maxCatchUpPeriod {
		// After so many periods the old offset is forgotten anyway.
		o.x, o.y, steps = f.rng.NormFloat64(), f.rng.NormFloat64(), 0
	}
	keep := math.Sqrt(1 - fudgeDrift*fudgeDrift)
	for ; steps > 0; steps-- {
		o.x = keep*o.x + fudgeDrift*f.rng.NormFloat64()
		o.y = keep*o.y + fudgeDrift*f.rng.NormFloat64()
	}
	if epoch > o.epoch {
		o.epoch = epoch
	}
	return o.x, o.y
}

func clampLat(lat float64) float64 { return math.Max(-maxLatitude, math.Min(maxLatitude, lat)) }

func wrapLon(lon float64) float64 {
	for lon >= 180 {
		lon -= 360
	}
	for lon < -180 {
		lon += 360
	}
	return lon
}

// DistanceM is the great-circle distance in metres (haversine).
func DistanceM(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371000.0
	rad := math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}
