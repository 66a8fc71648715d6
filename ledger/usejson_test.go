package ledger

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// TestUseRecsReadBackAsWritten: what the writer stores for a use in
// progress reads back, with json.Unmarshal as restartUses reads it, as
// the very records it was given, for texts with quotes, backslashes,
// control characters, non-ASCII and invalid UTF-8.
func TestUseRecsReadBackAsWritten(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "Z", "0", `"`, `\`, "\x00", "\x01", "\n", "\t", "\x1f", "\x7f", "é", "中", "\U0001F600", "<", ">", "&", "\u2028", "/"}
	text := func() string {
		s := ""
		for range rng.IntN(12) {
			s += alphabet[rng.IntN(len(alphabet))]
		}
		return s
	}
	for i := range 2000 {
		recs := make([]Record, rng.IntN(4))
		for j := range recs {
			recs[j] = Record{
				Time: time.Unix(0, rng.Int64N(4e18)).In(time.FixedZone("", (rng.IntN(48)-24)*1800)),
				UID:  rng.IntN(1 << 31), Kind: text(), Category: text(), Op: text(), Result: text(), AppState: text(),
			}
			if rng.IntN(2) == 0 {
				d, _ := json.Marshal(map[string]any{"pid": rng.IntN(1 << 20), "via": text()})
				recs[j].Detail = d
			}
		}
		b, err := appendUseRecs(nil, recs)
		if err != nil {
			t.Fatal(err)
		}
		var back []Record
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("case %d: %s does not read back: %v", i, b, err)
		}
		// What encoding/json would have written reads back the same.
		std, _ := json.Marshal(recs)
		var want []Record
		json.Unmarshal(std, &want)
		for j := range want {
			if !want[j].Time.Equal(back[j].Time) {
				t.Fatalf("case %d record %d: time %v read back as %v", i, j, want[j].Time, back[j].Time)
			}
			want[j].Time, back[j].Time = time.Time{}, time.Time{}
		}
		if len(want) == 0 {
			want = []Record{}
		}
		if len(back) == 0 {
			back = []Record{}
		}
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("case %d: want %+v, read back %+v from %s", i, want, back, b)
		}
	}
	if _, err := appendUseRecs(nil, []Record{{Kind: "span", Detail: json.RawMessage(`{"pid":`)}}); err == nil {
		t.Error("a detail that is not JSON: want an error, got none")
	}
}

// BenchmarkUseRecs compares the writer's encoding of a use's records
// (a span and its shown span, as op.start hands them over) with
// encoding/json's.
func BenchmarkUseRecs(b *testing.B) {
	recs := []Record{
		{Time: t0, UID: 10100, Kind: "span", Category: "camera", Op: "android:camera", Result: "allowed", AppState: "foreground", Detail: json.RawMessage(`{"pid":4242}`)},
		{Time: t0, UID: 10100, Kind: "indicator", Category: "camera", Detail: json.RawMessage(`{"resource":"camera","package":"com.a","uses":1}`)},
	}
	b.Run("hand", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf, _ = appendUseRecs(buf[:0], recs)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			json.Marshal(recs)
		}
	})
}
