package indicator

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

// benchOps is how many changes each measurement makes (make bench runs
// each benchmark once, with -benchtime 1x); PERMD_BENCH_CALLS overrides.
func benchOps() int {
	if n, err := strconv.Atoi(os.Getenv("PERMD_BENCH_CALLS")); err == nil && n > 0 {
		return n
	}
	return 20000
}

// BenchmarkFanOut measures, in process, the time from Start (or Finish)
// being called to each subscriber's deliver receiving the change, with 1
// and 10 subscribers: the engine's share of the op.start → SystemUI
// latency. The socket path is measured in package framework.
func BenchmarkFanOut(b *testing.B) {
	for _, mode := range []string{"goroutine", "inline"} {
		for _, subs := range []int{1, 10} {
			b.Run(fmt.Sprintf("%s/subscribers=%d", mode, subs), func(b *testing.B) { benchFanOut(b, subs, mode == "inline") })
		}
	}
}

func benchFanOut(b *testing.B, subs int, inline bool) {
	e := New(Default(), Options{Logger: quietLogger()})
	subscribe := e.Subscribe
	if inline {
		subscribe = e.SubscribeInline
	}
	defer e.Close()
	chans := make([]chan uint64, subs)
	for i := range chans {
		ch := make(chan uint64, 1024)
		chans[i] = ch
		s, _, err := subscribe(func(s *Snapshot) error { ch <- s.Seq; return nil })
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
	}
	lat := make([]time.Duration, 0, 2*b.N*benchOps()*subs)
	wait := func(t0 time.Time, seq uint64) {
		for _, ch := range chans {
			for v := range ch {
				if v >= seq {
					lat = append(lat, time.Since(t0))
					break
				}
			}
		}
	}
	a := app(10100, "com.a")
	b.ResetTimer()
	for range b.N * benchOps() / 2 {
		t0 := time.Now()
		s, err := e.Start(StartRequest{Resource: "camera", App: a})
		if err != nil {
			b.Fatal(err)
		}
		wait(t0, s.Seq)
		t0 = time.Now()
		seq, err := e.Finish(s.Use)
		if err != nil {
			b.Fatal(err)
		}
		wait(t0, seq)
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-us")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-us")
}

// BenchmarkStartFinishPairs measures sustained start/finish pairs per
// second with one subscriber attached (which coalesces what it cannot
// keep up with) and a recorder taking the span records.
func BenchmarkStartFinishPairs(b *testing.B) {
	e := New(Default(), Options{Logger: quietLogger(), Recorder: &recorder{}})
	defer e.Close()
	s, _, err := e.Subscribe(func(s *Snapshot) error { _ = s.JSON(); return nil })
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	a := app(10100, "com.a")
	b.ResetTimer()
	t0 := time.Now()
	n := b.N * benchOps()
	for range n {
		st, err := e.Start(StartRequest{Resource: "microphone", App: a})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.Finish(st.Use); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/time.Since(t0).Seconds(), "pairs/s")
}
