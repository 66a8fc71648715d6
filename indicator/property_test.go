package indicator

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// model is the reference the engine is checked against: a plain list of
// uses with start and end times. A resource is on at t iff some use of
// it is active or ended less than the hold time before t; a use ends by
// finish, death, or at its last heartbeat plus the max span.
type model struct {
	hold, maxSpan time.Duration
	uses          map[uint64]*modelUse
	order         []uint64
}

type modelUse struct {
	res         string
	app         Party
	via         []Party
	start, beat time.Time
	ended       bool
	end         time.Time
	reason      string
}

func (m *model) expire(now time.Time) {
	for _, id := range m.order {
		u := m.uses[id]
		if !u.ended && !now.Before(u.beat.Add(m.maxSpan)) {
			u.ended, u.end, u.reason = true, u.beat.Add(m.maxSpan), EndTimeout
		}
	}
}

// shown returns, per (resource, app) shown at now, the number of active
// uses.
func (m *model) shown(now time.Time) map[string]int {
	out := map[string]int{}
	for _, id := range m.order {
		u := m.uses[id]
		k := fmt.Sprintf("%s/%d/%s", u.res, u.app.UID, u.app.Package)
		switch {
		case !u.ended:
			out[k]++
		case now.Before(u.end.Add(m.hold)):
			out[k] += 0
		}
	}
	return out
}

func engineShown(s *Snapshot) map[string]int {
	out := map[string]int{}
	for _, r := range s.Resources {
		for _, a := range r.Apps {
			out[fmt.Sprintf("%s/%d/%s", r.Resource, a.UID, a.Package)] = a.Active
		}
		if r.On != (len(r.Apps) > 0) {
			panic("resource on without apps")
		}
	}
	return out
}

// TestPropertyMatchesReferenceModel drives the engine with random
// interleavings of start, finish (including duplicate and unknown
// finishes), heartbeat, process death (app and proxy) and time passing,
// and after every step compares what is shown, and how many uses each
// shown app has, with the reference model. Then it checks the record:
// one span per use with the model's end reason, one anomaly per timeout.
func TestPropertyMatchesReferenceModel(t *testing.T) {
	seeds := 40
	steps := 400
	if testing.Short() {
		seeds = 8
	}
	for seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			checkAgainstModel(t, rand.New(rand.NewPCG(uint64(seed), 99)), steps)
		})
	}
}

// chooser picks the next step: a seeded generator in the property test,
// the fuzzer's bytes in the fuzz target.
type chooser interface{ IntN(n int) int }

// byteChooser reads choices from fuzz input; when it runs out it picks 0.
type byteChooser struct{ b []byte }

func (c *byteChooser) IntN(n int) int {
	if len(c.b) == 0 {
		return 0
	}
	v := int(c.b[0])
	if len(c.b) > 1 {
		v = v<<8 | int(c.b[1])
		c.b = c.b[2:]
	} else {
		c.b = c.b[1:]
	}
	return v % n
}

// FuzzEngineAgainstModel runs the reference-model check on op sequences
// the fuzzer chooses.
func FuzzEngineAgainstModel(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte("start finish death heartbeat advance hold"))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkAgainstModel(t, &byteChooser{b}, len(b)/4+1)
	})
}

// checkAgainstModel drives a fresh engine through steps random steps and
// compares it with the model after each one, then checks the records.
func checkAgainstModel(t *testing.T, rng chooser, steps int) {
	apps := []Party{{UID: 10100, Package: "com.a"}, {UID: 10101, Package: "com.b"}, {UID: 10102, Package: "com.shared.x"}, {UID: 10102, Package: "com.shared.y"}}
	resources := []string{"camera", "microphone", "location", "contacts"} // contacts is not indicated
	proxy := Party{UID: 1047, Package: "cameraserver", PID: 700}
	cfg := Default()
	cfg.Hold = time.Duration(rng.IntN(3)) * 2 * time.Second // 0, 2s or 4s
	cfg.MaxSpan = 30 * time.Second
	e, clk, rec := newTestEngine(t, &cfg)
	m := &model{hold: cfg.Hold, maxSpan: cfg.MaxSpan, uses: map[uint64]*modelUse{}}
	var lastSeq uint64
	var log []string
	for step := range steps {
		now := clk.Now()
		m.expire(now)
		var op string
		switch k := rng.IntN(20); {
		case k < 7:
			a := apps[rng.IntN(len(apps))]
			a.PID = rng.IntN(3) // 0: unknown pid
			r := StartRequest{Resource: resources[rng.IntN(len(resources))], App: a}
			if r.Resource == "camera" && rng.IntN(2) == 0 {
				r.Via = []Party{proxy}
			}
			s, err := e.Start(r)
			if err != nil {
				t.Fatalf("step %d start %+v: %v", step, r, err)
			}
			if _, dup := m.uses[s.Use]; dup {
				t.Fatalf("step %d: id %d issued twice", step, s.Use)
			}
			m.uses[s.Use] = &modelUse{res: r.Resource, app: a, via: r.Via, start: now, beat: now}
			m.order = append(m.order, s.Use)
			op = fmt.Sprintf("start %s %v -> %d", r.Resource, a, s.Use)
		case k < 12:
			var id uint64
			switch {
			case len(m.order) == 0 || rng.IntN(10) == 0:
				id = 424242 // never issued
			default:
				id = m.order[rng.IntN(len(m.order))]
			}
			_, err := e.Finish(id)
			u := m.uses[id]
			var ee *EndedError
			var ue *UnknownUseError
			switch {
			case u == nil:
				if !errors.As(err, &ue) {
					t.Fatalf("step %d finish unknown %d: got %v, want UnknownUseError", step, id, err)
				}
			case u.ended:
				if !errors.As(err, &ee) || ee.Reason != u.reason {
					t.Fatalf("step %d finish ended %d (%s): got %v, want EndedError with reason %s", step, id, u.reason, err, u.reason)
				}
			default:
				if err != nil {
					t.Fatalf("step %d finish %d: %v", step, id, err)
				}
				u.ended, u.end, u.reason = true, now, EndFinish
			}
			op = fmt.Sprintf("finish %d", id)
		case k < 14:
			var ids []uint64
			for range rng.IntN(3) {
				if len(m.order) > 0 {
					ids = append(ids, m.order[rng.IntN(len(m.order))])
				}
			}
			active, ended, err := e.Heartbeat(ids)
			if err != nil {
				t.Fatalf("step %d heartbeat %v: %v", step, ids, err)
			}
			for _, id := range ids {
				if u := m.uses[id]; !u.ended {
					u.beat = now
				}
			}
			if len(active)+len(ended) != len(ids) {
				t.Fatalf("step %d heartbeat %v: active %v ended %v", step, ids, active, ended)
			}
			op = fmt.Sprintf("heartbeat %v", ids)
		case k < 16:
			var who Party
			if rng.IntN(4) == 0 {
				who = proxy
			} else {
				who = apps[rng.IntN(len(apps))]
			}
			pid := rng.IntN(3)
			if who.UID == proxy.UID && pid != 0 {
				pid = proxy.PID
			}
			n := e.ProcessDied(who.UID, pid)
			match := func(p Party) bool { return p.UID == who.UID && (pid == 0 || p.PID == pid) }
			want := 0
			for _, id := range m.order {
				u := m.uses[id]
				hit := match(u.app)
				for _, v := range u.via {
					hit = hit || match(v)
				}
				if !u.ended && hit {
					u.ended, u.end, u.reason = true, now, EndDeath
					want++
				}
			}
			if n != want {
				t.Fatalf("step %d died uid %d pid %d: ended %d uses, model %d", step, who.UID, pid, n, want)
			}
			op = fmt.Sprintf("died %d/%d", who.UID, pid)
		default:
			d := time.Duration(rng.IntN(5000)) * time.Millisecond
			if rng.IntN(8) == 0 {
				d = 35 * time.Second
			}
			clk.Advance(d)
			op = fmt.Sprintf("advance %s", d)
		}
		log = append(log, op)
		now = clk.Now()
		m.expire(now)
		snap := e.Snapshot()
		if snap.Seq < lastSeq {
			t.Fatalf("step %d: seq went back from %d to %d", step, lastSeq, snap.Seq)
		}
		lastSeq = snap.Seq
		got, want := engineShown(snap), m.shown(now)
		for k := range want {
			if k[:len("contacts")] == "contacts" {
				delete(want, k)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("step %d after %q at %s:\nengine shows %v\nmodel says   %v\nlast ops: %q", step, op, now.Format("15:04:05.000"), got, want, tail(log, 8))
		}
		for _, r := range resources[:3] {
			on := false
			for k := range want {
				on = on || k[:len(r)] == r
			}
			if snap.On(r) != on {
				t.Fatalf("step %d: %s on=%v, model %v", step, r, snap.On(r), on)
			}
		}
	}
	closedAt := clk.Now()
	e.Close()
	checkRecords(t, m, rec, closedAt)
}

func checkRecords(t *testing.T, m *model, rec *recorder, closedAt time.Time) {
	t.Helper()
	// Span records carry no use id (the rules do not record one): compare
	// the multiset of (resource, uid, start, duration, reason).
	got := map[string]int{}
	for _, r := range rec.kind("span") {
		d := detail(t, r)
		if r.Result != "allowed" {
			t.Fatalf("span record result %q", r.Result)
		}
		got[fmt.Sprintf("%s/%d/%d/%v/%v", r.Category, r.UID, r.Time.UnixMilli(), d["duration_ms"], d["reason"])]++
	}
	want := map[string]int{}
	timeouts := 0
	for _, id := range m.order {
		u := m.uses[id]
		end, reason := u.end, u.reason
		if !u.ended {
			end, reason = closedAt, EndShutdown
		}
		if reason == EndTimeout {
			timeouts++
		}
		want[fmt.Sprintf("%s/%d/%d/%v/%v", u.res, u.app.UID, u.start.UnixMilli(), float64(end.Sub(u.start).Milliseconds()), reason)]++
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("span records differ from the model:\ngot  %v\nwant %v", got, want)
	}
	if n := len(rec.kind("anomaly")); n != timeouts {
		t.Errorf("anomaly records: %d, model timeouts %d", n, timeouts)
	}
	for _, r := range rec.recs {
		for k := range detail(t, r) {
			if !slices.Contains(DetailKeys[r.Kind], k) {
				t.Errorf("%s record has detail %q, not in DetailKeys", r.Kind, k)
			}
		}
	}
	for _, r := range rec.kind("indicator") {
		d := detail(t, r)
		if r.Category == "contacts" || r.Result != "" || d["uses"].(float64) < 1 || d["resource"] != r.Category {
			t.Errorf("bad indicator record %+v %v", r, d)
		}
	}
}

func tail(s []string, n int) []string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
