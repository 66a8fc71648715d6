package framework

import (
	"errors"
	"reflect"
	"testing"

	"permd/framework/protocol"
)

// FuzzReadCheckParams holds perm.check's in-place reader to
// DecodeParams's general path: whenever it takes params, the general path
// takes them too and fills the same struct.
func FuzzReadCheckParams(f *testing.F) {
	for _, s := range []string{
		`{"uid":10400,"package":"com.bench.app","op":"android:fine_location","state":"foreground"}`,
		`{"uid":10400,"package":"com.bench.app","category":"camera","state":"foreground"}`,
		` { "uid" : -3 , "op" : "x" } `,
		`{"uid":1,"uid":2}`,
		`{"uid":01}`,
		`{"uid":1.0}`,
		`{"uid":1e3}`,
		`{"uid":-0}`,
		`{"uid":99999999999999999999}`,
		`{"uid":null}`,
		`{"UID":1}`,
		`{"package":"caf\u00e9"}`,
		"{\"package\":\"caf\xc3\xa9\"}",
		"{\"package\":\"\xff\"}",
		`{"package":1}`,
		`{"bogus":"x"}`,
		`{}`,
		`{"uid":1}x`,
		`{"uid":1,}`,
		`[1]`,
		`null`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, params []byte) {
		var fast protocol.CheckParams
		if !readCheckParams(params, &fast) {
			return
		}
		var slow protocol.CheckParams
		if err := DecodeParams(params, &slow); err != nil {
			t.Fatalf("%q: readCheckParams took it, DecodeParams refuses it: %v", params, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: readCheckParams read %+v, DecodeParams %+v", params, fast, slow)
		}
	})
}

// TestCheckParamsUsualShapeReadInPlace: the params perm.check's callers
// send are read by the in-place reader, not left to the general path.
func TestCheckParamsUsualShapeReadInPlace(t *testing.T) {
	for _, s := range []string{
		`{"uid":10400,"package":"com.bench.app","op":"android:fine_location","state":"foreground"}`,
		`{"uid":10400,"package":"com.bench.app","category":"camera","state":"foreground"}`,
		`{"uid":0,"category":"location"}`,
		`{"package":"com.bench.app","uid":1010400}`,
		"{\"uid\":10400,\n \"package\":\"com.bench.app\"}\n",
	} {
		var q protocol.CheckParams
		if !readCheckParams([]byte(s), &q) {
			t.Errorf("%s: left to the general path, want read in place", s)
			continue
		}
		if q.UID == nil {
			t.Errorf("%s: uid not read", s)
		}
	}
}

// TestCheckParamsErrorsNameTheField: what the in-place reader does not
// take still gets the general path's error naming the field, and a
// partly read struct leaks nothing into the result.
func TestCheckParamsErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct{ params, field string }{
		{`{"uid":"10400"}`, "uid"},
		{`{"uid":1.5}`, "uid"},
		{`{"uid":1,"package":2}`, "package"},
		{`{"uid":1,"bogus":"x"}`, "bogus"},
		{`{"uid":1,"state":["foreground"]}`, "state"},
	} {
		var q protocol.CheckParams
		err := decodeCheckParams([]byte(tc.params), &q)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: got %v, want an invalid-params error naming %q", tc.params, err, tc.field)
			continue
		}
		if m, _ := e.Data.(map[string]string); m["field"] != tc.field {
			t.Errorf("%s: error %v (data %v) names field %q, want %q", tc.params, err, e.Data, m["field"], tc.field)
		}
	}
	// Escapes are left to the general path, which decodes them.
	var q protocol.CheckParams
	if err := decodeCheckParams([]byte(`{"uid":7,"package":"com.a\u0062c"}`), &q); err != nil || q.Package != "com.abc" || *q.UID != 7 {
		t.Errorf("escaped package: got %+v, %v; want com.abc, uid 7", q, err)
	}
}

// BenchmarkCheckParams compares the in-place reader with DecodeParams's
// general path on perm.check's usual params.
func BenchmarkCheckParams(b *testing.B) {
	params := []byte(`{"uid":10400,"package":"com.bench.app","op":"android:fine_location","state":"foreground"}`)
	b.Run("in-place", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var q protocol.CheckParams
			if !readCheckParams(params, &q) {
				b.Fatal("not read")
			}
		}
	})
	b.Run("general", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var q protocol.CheckParams
			if err := DecodeParams(params, &q); err != nil {
				b.Fatal(err)
			}
		}
	})
}
