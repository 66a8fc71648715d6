package grants

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// benchChecks is how many decisions each measurement makes, so that the
// numbers mean something under `make bench` (-benchtime 1x).
const benchChecks = 200000

// BenchmarkCheck is the in-process decision: cache lookup, time rule,
// precision, and (with a limit) the frequency counter. It reports
// ns/check at 1 and 8 goroutines on one app (the worst case for the
// counter's mutex).
func BenchmarkCheck(b *testing.B) {
	for _, tc := range []struct {
		name string
		g    Grant
	}{
		{"while_in_use", Grant{Category: "location", Time: TimeRule{Mode: ModeWhileInUse}, Precision: Precision{Level: "approx_1km"}}},
		{"window+limit", Grant{Category: "location", Time: TimeRule{Mode: ModeWindow, Window: "00:00-24:00"}, Frequency: &Frequency{Max: 1 << 30, Per: "hour"}}},
	} {
		for _, workers := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/goroutines=%d", tc.name, workers), func(b *testing.B) {
				f := newFixture(b)
				f.set(tc.g)
				q := Query{UID: appUID, Packages: []string{appPkg}, Category: "location", State: StateForeground}
				for range b.N {
					start := time.Now()
					var wg sync.WaitGroup
					for range workers {
						wg.Add(1)
						go func() {
							defer wg.Done()
							for range benchChecks / workers {
								if d := f.eng.Check(q); !d.Allowed {
									b.Error(d)
									return
								}
							}
						}()
					}
					wg.Wait()
					el := time.Since(start)
					b.ReportMetric(float64(el.Nanoseconds())/benchChecks, "ns/check")
					b.ReportMetric(benchChecks/el.Seconds(), "checks/s")
				}
			})
		}
	}
}

// BenchmarkFudge is one loc.fudge computation.
func BenchmarkFudge(b *testing.B) {
	fu := NewFudger(time.Now, func() time.Duration { return time.Hour }, nil)
	for range b.N {
		start := time.Now()
		for range benchChecks {
			fu.Fudge(0, 31.2304, 121.4737, 3000, 10)
		}
		b.ReportMetric(float64(time.Since(start).Nanoseconds())/benchChecks, "ns/fudge")
	}
}
