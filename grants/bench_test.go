package grants

import (
	"testing"
	"time"
)

// BenchmarkCheck is the in-process decision: cache lookup, time rule,
// precision, and (for the limited case) the frequency counter.
func BenchmarkCheck(b *testing.B) {
	for _, tc := range []struct {
		name string
		g    Grant
	}{
		{"while_in_use", Grant{Category: "location", Time: TimeRule{Mode: ModeWhileInUse}}},
		{"window+limit", Grant{Category: "location", Time: TimeRule{Mode: ModeWindow, Window: "00:00-24:00"}, Frequency: &Frequency{Max: 1 << 30, Per: "hour"}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f := newFixture(b)
			f.set(tc.g)
			q := Query{UID: appUID, Packages: []string{appPkg}, Category: "location", State: StateForeground}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if d := f.eng.Check(q); !d.Allowed {
					b.Fatal(d)
				}
			}
		})
	}
	b.Run("parallel", func(b *testing.B) {
		f := newFixture(b)
		f.set(Grant{Category: "contacts", Time: TimeRule{Mode: ModeAlways}, Frequency: &Frequency{Max: 1 << 30, Per: "day"}})
		b.RunParallel(func(pb *testing.PB) {
			q := Query{UID: appUID, Packages: []string{appPkg}, Category: "contacts", State: StateBackground}
			for pb.Next() {
				f.eng.Check(q)
			}
		})
	})
}

// BenchmarkFudge is one loc.fudge computation.
func BenchmarkFudge(b *testing.B) {
	fu := NewFudger(time.Now, func() time.Duration { return time.Hour }, nil)
	for range b.N {
		fu.Fudge(0, 31.2304, 121.4737, 3000, 10)
	}
}
