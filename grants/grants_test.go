package grants

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestEveryCategoryAndDimension sets, for each category, a grant for
// every time mode it offers and every precision level it has, and checks
// the decision in the foreground and the background.
func TestEveryCategoryAndDimension(t *testing.T) {
	f := newFixture(t)
	cat := f.eng.Catalogue()
	wantResult := map[string]string{EffectFull: ResultAllowed, EffectRadius: ResultReduced, EffectSelected: ResultReduced, EffectSubset: ResultReduced, EffectEmpty: ResultDecoy}
	for _, c := range cat.Categories {
		for _, mode := range allModes {
			t.Run(c.ID+"/"+mode, func(t *testing.T) {
				tr := TimeRule{Mode: mode}
				switch mode {
				case ModeDuration:
					tr.For = "1h"
				case ModeUntil:
					tr.Until = f.clk.Now().Add(48 * time.Hour)
				case ModeWindow:
					tr.Window = "00:00-24:00"
				case ModeAlways:
					tr.Background = c.Background == BackgroundExplicit
				}
				g := Grant{Package: appPkg, UID: appUID, Category: c.ID, Decision: Allow, Time: tr}
				_, err := f.eng.Set(context.Background(), g, BySettings)
				if !c.HasTimeMode(mode) {
					var pe *ParamError
					if !errors.As(err, &pe) || pe.Field != "time.mode" {
						t.Fatalf("mode %s not offered for %s: got %v, want a time.mode error", mode, c.ID, err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				fg := f.check(c.ID, StateForeground)
				if !fg.Allowed {
					t.Fatalf("foreground: %+v, want allowed", fg)
				}
				bg := f.check(c.ID, StateBackground)
				wantBG := mode == ModeAlways && c.Background != BackgroundNever
				if bg.Allowed != wantBG {
					t.Fatalf("background: allowed=%v (%s), want %v", bg.Allowed, bg.Reason, wantBG)
				}
				f.check(c.ID, StateForeground) // back in front for the next case
			})
		}
		for _, l := range c.Levels {
			t.Run(c.ID+"/level="+l.ID, func(t *testing.T) {
				p := Precision{Level: l.ID}
				if l.Custom {
					p.RadiusM = 2500
				}
				if l.Effect == EffectSelected {
					p.Items = []string{"content://x/1", "content://x/7"}
				}
				f.set(Grant{Category: c.ID, Time: TimeRule{Mode: ModeWhileInUse}, Precision: p})
				d := f.check(c.ID, StateForeground)
				if d.Result != wantResult[l.Effect] || d.Level != l.ID {
					t.Fatalf("level %s: result %s level %s, want %s", l.ID, d.Result, d.Level, wantResult[l.Effect])
				}
				switch l.Effect {
				case EffectRadius:
					want := l.RadiusM
					if l.Custom {
						want = 2500
					}
					if d.RadiusM != want {
						t.Errorf("radius %d, want %d", d.RadiusM, want)
					}
				case EffectSelected:
					if len(d.Items) != 2 {
						t.Errorf("items %v, want the two chosen", d.Items)
					}
				case EffectSubset:
					if d.Scope != l.Scope {
						t.Errorf("scope %q, want %q", d.Scope, l.Scope)
					}
				}
			})
		}
		t.Run(c.ID+"/frequency", func(t *testing.T) {
			// Earlier accesses this minute are in the ledger and count:
			// start in a fresh minute.
			f.clk.Add(time.Minute)
			f.set(Grant{Category: c.ID, Time: TimeRule{Mode: ModeWhileInUse}, Frequency: &Frequency{Max: 2, Per: "minute"}})
			for i, want := range []string{"allowed", "allowed", ResultRateLimited} {
				d := f.check(c.ID, StateForeground)
				if (d.Result == ResultRateLimited) != (want == ResultRateLimited) {
					t.Fatalf("check %d: %s, want %s", i+1, d.Result, want)
				}
			}
			f.clk.Add(time.Minute)
			if d := f.check(c.ID, StateForeground); !d.Allowed || d.Remaining != 1 {
				t.Fatalf("next minute: %+v, want allowed with 1 left", d)
			}
		})
		t.Run(c.ID+"/deny", func(t *testing.T) {
			f.set(Grant{Category: c.ID, Decision: Deny})
			if d := f.check(c.ID, StateForeground); d.Allowed || d.Reason != "user_denied" {
				t.Fatalf("deny: %+v", d)
			}
		})
	}
}

func TestExpiryWithInjectedClock(t *testing.T) {
	t.Run("once ends after the grace once the app leaves", func(t *testing.T) {
		f := newFixture(t)
		f.eng.ReportState(appUID, StateForeground)
		f.set(Grant{Category: "location", Time: TimeRule{Mode: ModeOnce}})
		if d := f.check("location", ""); !d.Allowed {
			t.Fatalf("in foreground: %+v", d)
		}
		f.eng.ReportState(appUID, StateBackground)
		f.clk.Add(30 * time.Second)
		if d := f.check("location", ""); d.Allowed || d.Reason != "background" {
			t.Fatalf("background within grace: %+v, want denied (background)", d)
		}
		f.eng.ReportState(appUID, StateForeground) // back within 60 s: same session
		if d := f.check("location", ""); !d.Allowed {
			t.Fatalf("back within grace: %+v, want allowed", d)
		}
		f.eng.ReportState(appUID, StateBackground)
		f.clk.Add(61 * time.Second)
		f.eng.ReportState(appUID, StateForeground) // back too late
		if d := f.check("location", ""); d.Allowed || d.Reason != "once_ended" {
			t.Fatalf("after grace: %+v, want once_ended", d)
		}
		waitChanges(t, f, ActionExpire)
		if gs := f.eng.List(Filter{}); len(gs) != 0 {
			t.Fatalf("grants after expiry: %v", gs)
		}
	})
	t.Run("once ends 5 s after the process dies", func(t *testing.T) {
		f := newFixture(t)
		f.eng.ReportState(appUID, StateForeground)
		f.set(Grant{Category: "camera", Time: TimeRule{Mode: ModeOnce}})
		f.eng.ReportState(appUID, StateNotRunning)
		f.clk.Add(6 * time.Second)
		f.eng.ReportState(appUID, StateForeground)
		if d := f.check("camera", ""); d.Allowed {
			t.Fatalf("after death: %+v, want denied", d)
		}
	})
	t.Run("duration", func(t *testing.T) {
		f := newFixture(t)
		f.set(Grant{Category: "contacts", Time: TimeRule{Mode: ModeDuration, For: "1h"}})
		f.clk.Add(59 * time.Minute)
		if d := f.check("contacts", StateForeground); !d.Allowed {
			t.Fatalf("at 59 min: %+v", d)
		}
		f.clk.Add(time.Minute)
		if d := f.check("contacts", StateForeground); d.Allowed || d.Reason != "expired" {
			t.Fatalf("at 60 min: %+v, want expired", d)
		}
		waitChanges(t, f, ActionExpire)
	})
	t.Run("until", func(t *testing.T) {
		f := newFixture(t)
		f.set(Grant{Category: "calendar", Time: TimeRule{Mode: ModeUntil, Until: f.clk.Now().Add(24 * time.Hour)}})
		f.clk.Add(23 * time.Hour)
		if n := f.eng.Sweep(); n != 0 {
			t.Fatalf("sweep expired %d before the end", n)
		}
		f.clk.Add(time.Hour)
		if n := f.eng.Sweep(); n != 1 {
			t.Fatalf("sweep at the end expired %d, want 1", n)
		}
		waitChanges(t, f, ActionExpire)
	})
	t.Run("window", func(t *testing.T) {
		f := newFixture(t) // clock starts 10:00 UTC
		f.set(Grant{Category: "location", Time: TimeRule{Mode: ModeWindow, Window: "09:00-18:00"}})
		for _, tc := range []struct {
			step  time.Duration
			allow bool
		}{{0, true}, {7*time.Hour + 59*time.Minute, true}, {time.Minute, false}, {15 * time.Hour, true}} {
			f.clk.Add(tc.step)
			if d := f.check("location", StateForeground); d.Allowed != tc.allow {
				t.Fatalf("at %s: %+v, want allowed=%v", f.clk.Now().Format("15:04"), d, tc.allow)
			}
		}
	})
}

func waitChanges(t *testing.T, f *fixture, action string) {
	t.Helper()
	f.eng.Close() // waits for background persistence
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.changes {
		if c.Action == action && c.By == ByExpiry {
			return
		}
	}
	t.Fatalf("no %s change by expiry among %d changes", action, len(f.changes))
}

// TestFrequencySurvivesRestart exhausts an hourly limit, restarts the
// engine on the same SQLite file, and checks the limit still holds.
func TestFrequencySurvivesRestart(t *testing.T) {
	f := newFixture(t)
	f.set(Grant{Category: "location", Time: TimeRule{Mode: ModeAlways, Background: true}, Frequency: &Frequency{Max: 3, Per: "hour"}})
	f.clk.Add(10 * time.Minute)
	for i := range 3 {
		if d := f.check("location", StateBackground); !d.Allowed || d.Remaining != int64(2-i) {
			t.Fatalf("check %d: %+v", i+1, d)
		}
		f.clk.Add(2 * time.Minute) // spread over several coalesced minutes
	}
	f.eng.Close()
	f.start() // restart
	if d := f.check("location", StateBackground); d.Result != ResultRateLimited {
		t.Fatalf("after restart: %+v, want rate_limited", d)
	}
	f.clk.Add(time.Hour)
	if d := f.check("location", StateBackground); !d.Allowed || d.Remaining != 2 {
		t.Fatalf("next hour: %+v, want allowed with 2 left", d)
	}
}

func TestOncePerSession(t *testing.T) {
	f := newFixture(t)
	f.eng.ReportState(appUID, StateForeground)
	f.set(Grant{Category: "contacts", Time: TimeRule{Mode: ModeWhileInUse}, Frequency: &Frequency{Max: 1, Per: "session"}})
	if d := f.check("contacts", ""); !d.Allowed {
		t.Fatalf("first in session: %+v", d)
	}
	if d := f.check("contacts", ""); d.Result != ResultRateLimited {
		t.Fatalf("second in session: %+v", d)
	}
	f.eng.ReportState(appUID, StateBackground)
	f.clk.Add(2 * time.Minute)
	f.eng.ReportState(appUID, StateForeground)
	if d := f.check("contacts", ""); !d.Allowed {
		t.Fatalf("new session: %+v", d)
	}
}

// TestFrequencyUnderConcurrency: many checks at once never exceed the
// limit (run with -race).
func TestFrequencyUnderConcurrency(t *testing.T) {
	f := newFixture(t)
	const limit = 100
	f.set(Grant{Category: "sms", Time: TimeRule{Mode: ModeAlways}, Frequency: &Frequency{Max: limit, Per: "day"}})
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for range 20 {
				if d := f.eng.Check(Query{UID: appUID, Packages: []string{appPkg}, Category: "sms", State: StateBackground}); d.Allowed {
					n++
				}
			}
			mu.Lock()
			allowed += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if allowed != limit {
		t.Fatalf("%d checks allowed, want exactly %d", allowed, limit)
	}
}

func TestBadInputChangesNothing(t *testing.T) {
	f := newFixture(t)
	good := f.set(Grant{Category: "location", Time: TimeRule{Mode: ModeWhileInUse}, Precision: Precision{Level: "approx_1km"}})
	future := f.clk.Now().Add(time.Hour)
	for _, tc := range []struct {
		name  string
		g     Grant
		field string
	}{
		{"unknown category", Grant{Category: "clipboard", Time: TimeRule{Mode: ModeOnce}}, "category"},
		{"bad package", Grant{Package: "not a package", Category: "location", Time: TimeRule{Mode: ModeOnce}}, "package"},
		{"once with until", Grant{Category: "location", Time: TimeRule{Mode: ModeOnce, Until: future}}, "time.until"},
		{"duration without length", Grant{Category: "location", Time: TimeRule{Mode: ModeDuration}}, "time.for"},
		{"window ends where it starts", Grant{Category: "location", Time: TimeRule{Mode: ModeWindow, Window: "09:00-09:00"}}, "time.window"},
		{"window malformed", Grant{Category: "location", Time: TimeRule{Mode: ModeWindow, Window: "9-18"}}, "time.window"},
		{"until in the past", Grant{Category: "location", Time: TimeRule{Mode: ModeUntil, Until: f.clk.Now().Add(-time.Hour)}}, "time.until"},
		{"always location without explicit background", Grant{Category: "location", Time: TimeRule{Mode: ModeAlways}}, "time.background"},
		{"camera in background", Grant{Category: "camera", Time: TimeRule{Mode: ModeDuration, For: "1h", Background: true}}, "time.background"},
		{"while in use with background", Grant{Category: "sms", Time: TimeRule{Mode: ModeWhileInUse, Background: true}}, "time.background"},
		{"unknown level", Grant{Category: "location", Time: TimeRule{Mode: ModeOnce}, Precision: Precision{Level: "street"}}, "precision.level"},
		{"custom radius too small", Grant{Category: "location", Time: TimeRule{Mode: ModeOnce}, Precision: Precision{Level: "custom", RadiusM: 10}}, "precision.radius_m"},
		{"zero frequency", Grant{Category: "location", Time: TimeRule{Mode: ModeOnce}, Frequency: &Frequency{Max: 0, Per: "hour"}}, "frequency.max"},
		{"unknown frequency window", Grant{Category: "location", Time: TimeRule{Mode: ModeOnce}, Frequency: &Frequency{Max: 1, Per: "week"}}, "frequency.per"},
		{"deny with options", Grant{Category: "location", Decision: Deny, Time: TimeRule{Mode: ModeOnce}}, "decision"},
		{"no time mode", Grant{Category: "location"}, "time.mode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.g
			if g.Package == "" {
				g.Package = appPkg
			}
			if g.Decision == "" {
				g.Decision = Allow
			}
			_, err := f.eng.Set(context.Background(), g, BySettings)
			var pe *ParamError
			if !errors.As(err, &pe) || pe.Field != tc.field {
				t.Fatalf("got %v, want a ParamError naming %s", err, tc.field)
			}
			gs := f.eng.List(Filter{})
			if len(gs) != 1 || gs[0].Version != good.Version || gs[0].Precision.Level != "approx_1km" {
				t.Fatalf("grants changed: %+v", gs)
			}
		})
	}
	_, hist, err := f.eng.Get(context.Background(), 0, appPkg, "location", 100)
	if err != nil || len(hist) != 1 {
		t.Fatalf("history %v %v, want the one good set", hist, err)
	}
	if _, err := f.eng.Revoke(context.Background(), 0, "com.other.app", "location", ByShell); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke of nothing: %v, want ErrNotFound", err)
	}
}

func TestHistoryAndRevoke(t *testing.T) {
	f := newFixture(t)
	f.set(Grant{Category: "microphone", Time: TimeRule{Mode: ModeWhileInUse}})
	f.set(Grant{Category: "microphone", Time: TimeRule{Mode: ModeDuration, For: "24h"}})
	if _, err := f.eng.Revoke(context.Background(), 0, appPkg, "microphone", ByShell); err != nil {
		t.Fatal(err)
	}
	if d := f.check("microphone", StateForeground); d.Allowed || d.Reason != "no_grant" {
		t.Fatalf("after revoke: %+v", d)
	}
	f.start() // history survives a restart
	g, hist, err := f.eng.Get(context.Background(), 0, appPkg, "microphone", 10)
	if err != nil || g != nil {
		t.Fatalf("get after revoke: %v %v", g, err)
	}
	var got []string
	for _, h := range hist {
		got = append(got, h.Action+"/"+h.By)
	}
	if want := "[set/settings set/settings revoke/shell]"; fmt.Sprint(got) != want {
		t.Fatalf("history %v, want %s", got, want)
	}
	if hist[1].Grant == nil || hist[1].Grant.Version != 2 {
		t.Fatalf("history keeps each version: %+v", hist[1].Grant)
	}
}

func TestRequestAndDecide(t *testing.T) {
	f := newFixture(t)
	res, err := f.eng.Request(appUID, appPkg, "location", "zh-CN")
	if err != nil || res.Status != StatusAsk || res.Dialog == nil {
		t.Fatalf("request: %+v %v", res, err)
	}
	dl := res.Dialog
	if dl.Preselected.Time.Mode != ModeOnce || dl.Preselected.Precision.Level != "approx_3km" || dl.Risk == "" || dl.Title == "" {
		t.Fatalf("dialog preselection %+v", dl)
	}
	if _, err := f.eng.Decide(context.Background(), "nosuch", Grant{Decision: Allow, Time: TimeRule{Mode: ModeOnce}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("decide unknown request: %v", err)
	}
	g, err := f.eng.Decide(context.Background(), res.RequestID, Grant{Decision: Allow, Time: TimeRule{Mode: ModeWhileInUse}, Precision: Precision{Level: "city"}})
	if err != nil || g.By != ByDialog || g.UID != appUID {
		t.Fatalf("decide: %+v %v", g, err)
	}
	res, _ = f.eng.Request(appUID, appPkg, "location", "en")
	if res.Status != StatusGranted || res.Grant.Precision.Level != "city" {
		t.Fatalf("request after decide: %+v", res)
	}
	// A request id is used once.
	if _, err := f.eng.Decide(context.Background(), res.RequestID, Grant{Decision: Deny}); err == nil {
		t.Fatal("second decide on the same request id accepted")
	}
}

// TestPollCatchesATripToTheBackground: a polled state source (process
// tracking) that saw the app in the background past the grace ends its
// once grant even though both checks happened in the foreground.
func TestPollCatchesATripToTheBackground(t *testing.T) {
	f := newFixture(t)
	state := StateForeground
	poll := func(int) string { return state }
	f.set(Grant{Category: "microphone", Time: TimeRule{Mode: ModeOnce}})
	if d := f.check("microphone", StateForeground); !d.Allowed {
		t.Fatalf("first check: %+v", d)
	}
	state = StateBackground
	f.eng.Poll(poll)
	f.clk.Add(90 * time.Second)
	state = StateForeground
	f.eng.Poll(poll)
	if d := f.check("microphone", StateForeground); d.Allowed || d.Reason != "once_ended" {
		t.Fatalf("after 90 s in the background: %+v, want once_ended", d)
	}
}
