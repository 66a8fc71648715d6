package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"permd/framework/client"
)

// arrival is one notification as a subscriber received it.
type arrival struct {
	seq uint64
	at  time.Time
}

// BenchmarkIndicatorNotify measures, over the real socket, the time from
// a framework client sending op.start (or op.finish) to each subscriber
// receiving the indicator.changed notification for it, with 1 and 10
// subscribers, next to the sys.health round trip measured in the same
// run. Target: notify p50 within 1x of the health round trip (the
// indicator adds no more than one socket hop).
func BenchmarkIndicatorNotify(b *testing.B) {
	for _, subs := range []int{1, 10} {
		b.Run(fmt.Sprintf("subscribers=%d", subs), func(b *testing.B) {
			ts := startTestService(b, testOptions{Config: map[string]string{IndicatorFile: `{"version":1}`}})
			ctx := context.Background()
			chans := make([]chan arrival, subs)
			for i := range chans {
				c := ts.dial(b)
				ch := make(chan arrival, 1<<16)
				chans[i] = ch
				go func() {
					for n := range c.Notifications() {
						at := time.Now()
						var s struct{ Seq uint64 }
						if json.Unmarshal(n.Params, &s) == nil {
							ch <- arrival{s.Seq, at}
						}
					}
				}()
				if err := c.Call(ctx, "indicator.subscribe", nil, nil); err != nil {
					b.Fatal(err)
				}
			}
			fw := ts.dial(b)
			changes := max(benchCalls()/4, 1000)
			for range b.N {
				health := measure(b, 1, benchCalls(), dialer(b, ts.socket), callMethod("sys.health", nil))
				lat := make([]time.Duration, 0, changes*subs)
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
					for _, ch := range chans {
						for a := range ch {
							if a.seq >= seq {
								if i >= 200 { // the first 200 warm up
									lat = append(lat, a.at.Sub(t0))
								}
								break
							}
						}
					}
				}
				slices.Sort(lat)
				us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
				p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
				b.ReportMetric(us(p50), "notify-p50-us")
				b.ReportMetric(us(p99), "notify-p99-us")
				b.ReportMetric(us(health.P50), "health-p50-us")
				b.ReportMetric(us(health.P99), "health-p99-us")
				b.ReportMetric(us(p50)/us(health.P50), "ratio-p50")
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
