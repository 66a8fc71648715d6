package framework

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"permd/framework/client"
)

// arrival is one notification as a subscriber received it.
type arrival struct {
	seq uint64
	at  time.Time
}

// snapshotSeq reads the seq that leads every snapshot ({"seq":N,...})
// without decoding the rest: the subscribers here only need to know
// which change arrived, and decoding ten snapshots in this process would
// take the CPU the service is being timed on.
func snapshotSeq(params []byte) (uint64, bool) {
	rest, ok := bytes.CutPrefix(params, []byte(`{"seq":`))
	if !ok {
		return 0, false
	}
	i := bytes.IndexByte(rest, ',')
	if i < 0 {
		return 0, false
	}
	v, err := strconv.ParseUint(string(rest[:i]), 10, 64)
	return v, err == nil
}

// awaitSeq returns the first arrival on ch at or after seq; a subscriber
// that never hears of a change fails the benchmark rather than hang it.
func awaitSeq(b *testing.B, ch <-chan arrival, seq uint64) arrival {
	timeout := time.After(10 * time.Second)
	for {
		select {
		case a := <-ch:
			if a.seq >= seq {
				return a
			}
		case <-timeout:
			b.Fatalf("no notification of seq %d within 10s", seq)
		}
	}
}

// BenchmarkIndicatorNotify measures, over the real socket, the latency
// from an op.start (or op.finish) arriving at the daemon to each
// subscriber holding the indicator.changed notification for it, with 1
// and 10 subscribers, next to the sys.health round trip measured in the
// same run. Target: notify p50 within 1x of the health round trip (the
// indicator adds no more than one socket hop). With 10 subscribers the
// round trip compared is the one 10 clients see when calling at once
// (ratio-p50); the ratio to a lone client's round trip is reported too
// (ratio-p50-1client). e2e-p50 times from the framework client's send
// instead of the daemon's read: one more hop, for reference.
func BenchmarkIndicatorNotify(b *testing.B) {
	for _, subs := range []int{1, 10} {
		b.Run(fmt.Sprintf("subscribers=%d", subs), func(b *testing.B) {
			// The daemon's read time of each op.* line, in order, once
			// the subscribers are in place (trace set below).
			var trace atomic.Pointer[func(string, time.Time)]
			ts := startTestService(b, testOptions{Config: map[string]string{IndicatorFile: `{"version":1}`},
				TraceArrival: func(method string, at time.Time) {
					if f := trace.Load(); f != nil {
						(*f)(method, at)
					}
				}})
			ctx := context.Background()
			chans := make([]chan arrival, subs)
			for i := range chans {
				c := ts.dial(b)
				ch := make(chan arrival, 1<<16)
				chans[i] = ch
				go func() {
					for n := range c.Notifications() {
						at := time.Now()
						if seq, ok := snapshotSeq(n.Params); ok {
							ch <- arrival{seq, at}
						}
					}
				}()
				if err := c.Call(ctx, "indicator.subscribe", nil, nil); err != nil {
					b.Fatal(err)
				}
			}
			fw := ts.dial(b)
			// The daemon's read time of each op.* line from fw, in order.
			reads := make(chan time.Time, 1<<16)
			onOp := func(method string, at time.Time) {
				if strings.HasPrefix(method, "op.") {
					reads <- at
				}
			}
			trace.Store(&onOp)
			changes := max(benchCalls()/4, 1000)
			for range b.N {
				health := measure(b, 1, benchCalls(), dialer(b, ts.socket), callMethod("sys.health", nil))
				healthN := health
				if subs > 1 {
					healthN = measure(b, subs, benchCalls(), dialer(b, ts.socket), callMethod("sys.health", nil))
				}
				lat := make([]time.Duration, 0, changes*subs)
				e2e := make([]time.Duration, 0, changes*subs)
				var use uint64
				for i := range changes + 200 {
					t0 := time.Now()
					var seq uint64
					if i%2 == 0 {
						var st started
						if err := fw.Call(ctx, "op.start", map[string]any{"resource": "camera", "uid": 10100, "package": "com.a"}, &st); err != nil {
							b.Fatal(err)
						}
						use, seq = st.Use, st.Seq
					} else {
						var fin struct{ Seq uint64 }
						if err := fw.Call(ctx, "op.finish", map[string]any{"use": use}, &fin); err != nil {
							b.Fatal(err)
						}
						seq = fin.Seq
					}
					read := <-reads
					for _, ch := range chans {
						a := awaitSeq(b, ch, seq)
						if i >= 200 { // the first 200 warm up
							lat = append(lat, a.at.Sub(read))
							e2e = append(e2e, a.at.Sub(t0))
						}
					}
				}
				slices.Sort(lat)
				slices.Sort(e2e)
				us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
				p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
				b.ReportMetric(us(p50), "notify-p50-us")
				b.ReportMetric(us(p99), "notify-p99-us")
				b.ReportMetric(us(e2e[len(e2e)/2]), "e2e-p50-us")
				b.ReportMetric(us(healthN.P50), "health-p50-us")
				b.ReportMetric(us(healthN.P99), "health-p99-us")
				b.ReportMetric(us(p50)/us(healthN.P50), "ratio-p50")
				if subs > 1 {
					b.ReportMetric(us(health.P50), "health-1client-p50-us")
					b.ReportMetric(us(p50)/us(health.P50), "ratio-p50-1client")
				}
			}
		})
	}
}

// BenchmarkIndicatorPairs measures sustained op.start/op.finish pairs per
// second over the socket, from 1 and 4 framework connections, with one
// subscriber attached.
func BenchmarkIndicatorPairs(b *testing.B) {
	for _, clients := range []int{1, 4} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			ts := startTestService(b, testOptions{})
			sub := ts.dial(b)
			go func() {
				for range sub.Notifications() {
				}
			}()
			if err := sub.Call(context.Background(), "indicator.subscribe", nil, nil); err != nil {
				b.Fatal(err)
			}
			pairs := benchCalls() / 2
			conns := make([]*client.Client, clients)
			for i := range conns {
				conns[i] = ts.dial(b)
			}
			for range b.N {
				var wg sync.WaitGroup
				errs := make(chan error, clients)
				t0 := time.Now()
				for i, c := range conns {
					wg.Add(1)
					go func() {
						defer wg.Done()
						ctx := context.Background()
						for range pairs / clients {
							var st started
							if err := c.Call(ctx, "op.start", map[string]any{"resource": "microphone", "uid": 10100 + i, "package": "com.a"}, &st); err != nil {
								errs <- err
								return
							}
							if err := c.Call(ctx, "op.finish", map[string]any{"use": st.Use}, nil); err != nil {
								errs <- err
								return
							}
						}
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
				b.ReportMetric(float64(pairs/clients*clients)/time.Since(t0).Seconds(), "pairs/s")
			}
		})
	}
}
