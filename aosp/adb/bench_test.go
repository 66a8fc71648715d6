package adb_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"permd/aosp/adb"
)

// BenchmarkSyncPullVsADB pulls the same 100 MB file from the same test
// device over TCP twice in one run: with Debian's adb (client, server,
// device) and with this package's sync: (host, device). It reports both
// throughputs and their ratio; the target is ours/adb >= 0.8.
func BenchmarkSyncPullVsADB(b *testing.B) {
	const size = 100 << 20
	a := startADB(b)
	d := startDevice(b, a.publicKey())
	a.connect(d.Addr(), "device")
	dir := b.TempDir()
	src, _ := randomFile(b, dir, size)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c, err := adb.DialTCP(ctx, d.Addr(), adb.HostOptions{Keys: []*adb.Key{a.key()}})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ResetTimer()
	var adbTime, ourTime time.Duration
	for range b.N {
		// Alternate the order so neither side always gets a warm cache.
		for _, ours := range []bool{false, true} {
			dst := filepath.Join(dir, "pulled.bin")
			os.Remove(dst)
			start := time.Now()
			if ours {
				if n, err := c.PullFile(ctx, src, dst); err != nil || n != size {
					b.Fatalf("sync pull: %d bytes, %v", n, err)
				}
				ourTime += time.Since(start)
			} else {
				if out, err := a.run(10*time.Minute, "-s", d.Addr(), "pull", src, dst); err != nil {
					b.Fatalf("adb pull: %v\n%s", err, out)
				}
				adbTime += time.Since(start)
			}
			if st, err := os.Stat(dst); err != nil || st.Size() != size {
				b.Fatalf("pulled copy: %v", err)
			}
		}
	}
	b.StopTimer()
	mb := float64(size) / (1 << 20) * float64(b.N)
	adbRate, ourRate := mb/adbTime.Seconds(), mb/ourTime.Seconds()
	b.ReportMetric(adbRate, "adb-MB/s")
	b.ReportMetric(ourRate, "sync-MB/s")
	b.ReportMetric(ourRate/adbRate, "ratio")
}
