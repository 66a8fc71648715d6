package grants

import "time"

// ByAndroid marks a change the framework reported: Android's own
// permission state for the app was revoked (Settings, `pm revoke`), and
// permd's grant ended with it.
const ByAndroid = "android"

// The actor code is what grant_history stores. It is registered here,
// apart from the codes in store.go, and numbered with room below it, so
// that codes added there never collide with it.
func init() { actorCodes[ByAndroid] = 10 }

// Offset returns user's secret location offset as Fudge uses it now (in
// units of a quarter of the granted radius, as in Fudge) and the instant
// it next drifts. system_server's location precision patch needs it to
// coarsen fixes in-process with the same grid as loc.fudge.
func (f *Fudger) Offset(user int) (x, y float64, next time.Time) {
	x, y = f.offset(user)
	p := f.period()
	if p <= 0 {
		p = time.Hour
	}
	now := f.now()
	next = time.Unix(0, (now.UnixNano()/int64(p)+1)*int64(p)).UTC()
	return x, y, next
}
