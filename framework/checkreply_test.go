package framework

import (
	"testing"

	"permd/framework/protocol"
)

// FuzzDecisionReply holds perm.check's hand-written reply encoding to
// encoding/json's of the same protocol.Decision: whenever it writes a
// decision, the bytes are encoding/json's.
func FuzzDecisionReply(f *testing.F) {
	f.Add(true, "reduced", "granted", "com.bench.app", "location", "approx_1km", "reduced", 1000, "", "", int64(-1), "foreground")
	f.Add(false, "denied", "no_grant", "", "camera", "", "", 0, "", "", int64(0), "background")
	f.Add(true, "decoy", "a\"b", "p<&>", "c\\", "\x01", "é", -5, "contacts", "x", int64(1<<40), "\u2028")
	f.Fuzz(func(t *testing.T, allowed bool, result, reason, pkg, cat, level, effect string, radius int, scope, item string, remaining int64, state string) {
		d := protocol.Decision{Allowed: allowed, Result: result, Reason: reason, Package: pkg, Category: cat, Level: level,
			Effect: effect, RadiusM: radius, Scope: scope, Remaining: remaining, AppState: state}
		if item != "" {
			d.Items = []string{item, scope}
		}
		fast, err := appendReply(nil, []byte("7"), decisionReply(d), nil)
		if err != nil {
			t.Fatal(err)
		}
		slow, err := appendReply(nil, []byte("7"), d, nil)
		if err != nil {
			t.Fatal(err)
		}
		if string(fast) != string(slow) {
			t.Fatalf("decision %+v: written %s, encoding/json writes %s", d, fast, slow)
		}
	})
}

// TestDecisionReplyWrittenByHand: a usual decision takes the hand-written
// path, not encoding/json's.
func TestDecisionReplyWrittenByHand(t *testing.T) {
	d := decisionReply{Allowed: true, Result: "reduced", Reason: "granted", Package: "com.bench.app", Category: "location",
		Level: "approx_1km", Effect: "reduced", RadiusM: 1000, Items: []string{"a", "b"}, Remaining: -1, AppState: "foreground"}
	b, ok := appendResult(nil, d)
	if !ok {
		t.Fatal("usual decision left to encoding/json")
	}
	want := `{"allowed":true,"result":"reduced","reason":"granted","package":"com.bench.app","category":"location","level":"approx_1km","effect":"reduced","radius_m":1000,"items":["a","b"],"remaining":-1,"app_state":"foreground"}`
	if string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	if _, ok := appendResult(nil, decisionReply{Reason: "a\nb"}); ok {
		t.Error("a reason that needs escaping was written by hand, want encoding/json's path")
	}
}

// BenchmarkDecisionReply compares the hand-written reply of a usual
// decision with encoding/json's.
func BenchmarkDecisionReply(b *testing.B) {
	d := protocol.Decision{Allowed: true, Result: "reduced", Reason: "granted", Package: "com.bench.app", Category: "location",
		Level: "approx_1km", Effect: "reduced", RadiusM: 1000, Remaining: -1, AppState: "foreground"}
	var line []byte
	for _, tc := range []struct {
		name string
		v    any
	}{{"by-hand", decisionReply(d)}, {"encoding-json", d}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				line, _ = appendReply(line[:0], []byte("7"), tc.v, nil)
			}
		})
	}
}
