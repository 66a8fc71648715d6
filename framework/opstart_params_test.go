package framework

import (
	"reflect"
	"testing"
	"time"

	"permd/framework/protocol"
)

// FuzzDecodeOpStart holds decodeOpStart to DecodeParams into the whole
// op.start struct: the same result, or the same error, for any params.
func FuzzDecodeOpStart(f *testing.F) {
	for _, s := range []string{
		`{"resource":"camera","uid":10123,"package":"com.example.cam"}`,
		`{"resource":"camera","uid":10123,"package":"com.example.cam","pid":4242,"op":"android:camera"}`,
		`{"resource":"camera","uid":10123,"package":"com.a","via":[{"uid":10300,"package":"com.proxy"}]}`,
		`{"resource":"camera","uid":10123,"package":"com.a","VIA":[{"uid":10300}]}`,
		`{"resource":"camera","uid":10123,"package":"com.a","v\u0069a":[{"uid":10300}]}`,
		`{"resource":"camera","uid":10123,"package":"via"}`,
		`{"Resource":"camera","UID":1,"Package":"com.a"}`,
		`{"resource":"camera","uid":"10123"}`,
		`{"resource":"camera","uid":1.5}`,
		`{"resource":"camera","uid":null}`,
		`{"resource":"camera","uid":1,"uid":2}`,
		`{"resource":"camera","bogus":1}`,
		`{"resource":"camera","via":null}`,
		`{}`,
		`null`,
		`[1]`,
		`{"resource":`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var fast, slow protocol.OpStartParams
		ferr, serr := decodeOpStart(raw, &fast), DecodeParams(raw, &slow)
		if (ferr == nil) != (serr == nil) || ferr != nil && ferr.Error() != serr.Error() {
			t.Fatalf("%q: decodeOpStart said %v, DecodeParams %v", raw, ferr, serr)
		}
		if ferr == nil && !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: decodeOpStart read %+v, DecodeParams %+v", raw, fast, slow)
		}
	})
}

// BenchmarkDecodeOpStart times op.start's params as the Java and Go
// clients send them, decoded by decodeOpStart and by DecodeParams into
// the whole struct (its json.Decoder path), alternately in one run.
func BenchmarkDecodeOpStart(b *testing.B) {
	raw := []byte(`{"resource":"camera","uid":10123,"package":"com.example.cam","pid":4242}`)
	const n = 20000
	for range b.N {
		var fast, slow time.Duration
		for range 5 {
			t0 := time.Now()
			for range n {
				var in protocol.OpStartParams
				if err := decodeOpStart(raw, &in); err != nil {
					b.Fatal(err)
				}
			}
			t1 := time.Now()
			for range n {
				var in protocol.OpStartParams
				if err := DecodeParams(raw, &in); err != nil {
					b.Fatal(err)
				}
			}
			fast += t1.Sub(t0)
			slow += time.Since(t1)
		}
		b.ReportMetric(float64(fast.Nanoseconds())/(5*n), "fast-ns/decode")
		b.ReportMetric(float64(slow.Nanoseconds())/(5*n), "decoder-ns/decode")
		b.ReportMetric(float64(fast)/float64(slow), "ratio")
	}
}
