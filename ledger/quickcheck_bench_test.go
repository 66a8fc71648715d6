package ledger

import (
	"context"
	"os"
	"testing"
	"time"

	"permd/ledger/store"
)

// BenchmarkStartQuickCheck measures what the integrity check at every
// start costs on a generated 7-day ledger of PERMD_BENCH_CHECK_ROWS rows
// (default 1 million): SQLite's quick_check against a baseline that
// reads every row of the record once (a COUNT over ledger_event), both
// on the same file in the same run.
func BenchmarkStartQuickCheck(b *testing.B) {
	rows := envInt("PERMD_BENCH_CHECK_ROWS", 1_000_000)
	path, _ := generate(b, rows, 7, 300)
	db, err := store.OpenReadOnly(path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	st, _ := os.Stat(path)
	ctx := context.Background()
	for b.Loop() {
		const reps = 5
		var check, scan []time.Duration
		for i := range reps {
			for k := range 2 {
				t1 := time.Now()
				if (i+k)%2 == 0 {
					f, err := store.QuickCheck(ctx, db)
					if err != nil || len(f) > 0 {
						b.Fatalf("quick_check on a sound file: %v %v", f, err)
					}
					check = append(check, time.Since(t1))
				} else {
					var n int64
					if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM ledger_event`).Scan(&n); err != nil {
						b.Fatal(err)
					}
					scan = append(scan, time.Since(t1))
				}
			}
		}
		mc, ms := median(check), median(scan)
		b.ReportMetric(float64(st.Size())/(1<<20), "MiB")
		b.ReportMetric(float64(mc.Milliseconds()), "quick_check-ms")
		b.ReportMetric(float64(ms.Milliseconds()), "count-scan-ms")
		b.ReportMetric(float64(mc)/float64(ms), "ratio")
	}
}
