package grants

import (
	"context"
	crand "crypto/rand"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Location fudging, after AOSP's LocationFudger:
//
//  1. Each Android user has a secret offset (ox, oy), a 2-D standard
//     Gaussian drawn from a generator seeded with a per-user secret from
//     crypto/rand, kept in SQLite and replaced on a published schedule
//     (fudge_rotation), so restarts add no independent samples.
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
	fudgeDrift      = 0.03
	metresPerDegree = 111000.0
	maxLatitude     = 89.9
)

// SecretStore keeps each user's fudging secret across restarts, so that
// a restart does not hand out an independent sample of the offset (12
// restarts would otherwise average back to within r/sqrt(12)·… of the
// truth). The grants Store implements it.
type SecretStore interface {
	LoadSecret(ctx context.Context, user int) (seed [32]byte, created time.Time, ok bool, err error)
	SaveSecret(ctx context.Context, user int, seed [32]byte, created time.Time) error
}

// Fudger coarsens locations to a granted radius.
type Fudger struct {
	now    func() time.Time
	period func() time.Duration

	// Persistence (Persist): nil store keeps secrets in memory only.
	store    SecretStore
	rotation func() time.Duration
	log      *slog.Logger

	mu      sync.Mutex
	master  *rand.Rand // draws users' seeds when a fixed seed was given (tests)
	offsets map[int]*offset
}

// offset is one user's secret and where its drift has got to. The whole
// offset is a function of (seed, created, period, now): the seed drives a
// ChaCha8 stream whose first two normals are the initial offset and whose
// later pairs are the hourly drift steps, so a restart that reloads the
// seed recomputes exactly the offset the previous run had.
type offset struct {
	seed    [32]byte
	created time.Time
	period  time.Duration
	rng     *rand.Rand
	steps   int64 // drift steps applied
	x, y    float64
}

// NewFudger makes a fudger. seed nil draws each user's secret from
// crypto/rand; a fixed seed makes the secrets reproducible (tests).
// Without Persist the secrets live as long as the process.
func NewFudger(now func() time.Time, period func() time.Duration, seed *[32]byte) *Fudger {
	f := &Fudger{now: now, period: period, offsets: map[int]*offset{}, log: slog.Default()}
	if seed != nil {
		f.master = rand.New(rand.NewChaCha8(*seed))
	}
	return f
}

// Persist keeps every user's secret in store and replaces it rotation()
// after it was drawn (rotation <= 0: never). Call before the first Fudge.
func (f *Fudger) Persist(store SecretStore, rotation func() time.Duration, log *slog.Logger) {
	f.store, f.rotation = store, rotation
	if log != nil {
		f.log = log
	}
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
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.offsets[user]
	if o == nil || f.rotated(o, now) {
		o = f.secret(user, now)
		f.offsets[user] = o
	}
	steps := now.UnixNano()/int64(p) - o.created.UnixNano()/int64(p)
	if steps < 0 {
		steps = 0 // the clock went back: keep the offset it had
	}
	if o.rng == nil || o.period != p || steps < o.steps {
		o.rng = rand.New(rand.NewChaCha8(o.seed))
		o.x, o.y, o.steps, o.period = o.rng.NormFloat64(), o.rng.NormFloat64(), 0, p
	}
	keep := math.Sqrt(1 - fudgeDrift*fudgeDrift)
	for ; o.steps < steps; o.steps++ {
		o.x = keep*o.x + fudgeDrift*o.rng.NormFloat64()
		o.y = keep*o.y + fudgeDrift*o.rng.NormFloat64()
	}
	return o.x, o.y
}

// rotated reports whether o's secret is due for replacement.
func (f *Fudger) rotated(o *offset, now time.Time) bool {
	if f.rotation == nil {
		return false
	}
	r := f.rotation()
	return r > 0 && now.Sub(o.created) >= r
}

// secret loads user's secret, or draws and stores a new one when there is
// none or it is due for rotation. A store that fails is logged and the
// secret kept in memory: fudging never stops for storage.
func (f *Fudger) secret(user int, now time.Time) *offset {
	if f.store != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		seed, created, ok, err := f.store.LoadSecret(ctx, user)
		if err != nil {
			f.log.Error("grants: cannot load the location secret; drawing one for this run", "user", user, "err", err)
		}
		if ok {
			o := &offset{seed: seed, created: created}
			if !f.rotated(o, now) {
				return o
			}
		}
	}
	// Milliseconds, as stored: the reloaded secret must count the same
	// drift steps as this run.
	o := &offset{created: time.UnixMilli(now.UnixMilli())}
	if f.master != nil {
		for i := range o.seed {
			o.seed[i] = byte(f.master.Uint32())
		}
	} else {
		crand.Read(o.seed[:])
	}
	if f.store != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := f.store.SaveSecret(ctx, user, o.seed, o.created); err != nil {
			f.log.Error("grants: cannot store the location secret; a restart will draw another", "user", user, "err", err)
		}
	}
	return o
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
