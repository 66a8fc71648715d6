package adb_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"permd/aosp/adb"
)

// BenchmarkSyncPullVsADB pulls the same 100 MB file from the same test
// device over TCP, in one run, with two commands: Debian's adb pull (adb
// client, adb server, device) and permctl ledger pull, which speaks
// sync: itself through this package (host, device). Both are separate
// processes, as on a test station. It reports both throughputs and their
// ratio (target: permctl/adb >= 0.8), plus the in-process PullFile rate,
// whose host side shares the test process's CPUs with the device.
func BenchmarkSyncPullVsADB(b *testing.B) {
	const size = 100 << 20
	a := startADB(b)
	d := startDevice(b, a.publicKey())
	a.connect(d.Addr(), "device")
	dir := b.TempDir()
	src, _ := randomFile(b, dir, size)

	// permctl gets adb's own key through ANDROID_SDK_HOME.
	sdk := filepath.Join(dir, "sdk")
	os.MkdirAll(filepath.Join(sdk, ".android"), 0o700)
	key, err := os.ReadFile(filepath.Join(a.home, ".android", "adbkey"))
	if err != nil {
		b.Fatal(err)
	}
	os.WriteFile(filepath.Join(sdk, ".android", "adbkey"), key, 0o600)
	permctl := filepath.Join(dir, "permctl")
	if out, err := exec.Command("go", "build", "-o", permctl, "permd/cmd/permctl").CombinedOutput(); err != nil {
		b.Fatalf("build permctl: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c, err := adb.DialTCP(ctx, d.Addr(), adb.HostOptions{Keys: []*adb.Key{a.key()}})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ResetTimer()
	var adbTime, ourTime, inTime time.Duration
	for range b.N {
		for _, how := range []string{"adb", "permctl", "in-process"} {
			dst := filepath.Join(dir, "pulled.bin")
			os.Remove(dst)
			start := time.Now()
			switch how {
			case "adb":
				if out, err := a.run(10*time.Minute, "-s", d.Addr(), "pull", src, dst); err != nil {
					b.Fatalf("adb pull: %v\n%s", err, out)
				}
				adbTime += time.Since(start)
			case "permctl":
				cmd := exec.CommandContext(ctx, permctl, "--device", d.Addr(), "ledger", "pull", "--remote-db", src, dst)
				cmd.Env = append(os.Environ(), "ANDROID_SDK_HOME="+sdk, "ADB_VENDOR_KEYS=")
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("permctl ledger pull: %v\n%s", err, out)
				}
				ourTime += time.Since(start)
			default:
				if n, err := c.PullFile(ctx, src, dst); err != nil || n != size {
					b.Fatalf("sync pull: %d bytes, %v", n, err)
				}
				inTime += time.Since(start)
			}
			if st, err := os.Stat(dst); err != nil || st.Size() != size {
				b.Fatalf("%s: pulled copy: %v", how, err)
			}
		}
	}
	b.StopTimer()
	mb := float64(size) / (1 << 20) * float64(b.N)
	adbRate, ourRate := mb/adbTime.Seconds(), mb/ourTime.Seconds()
	b.ReportMetric(adbRate, "adb-MB/s")
	b.ReportMetric(ourRate, "permctl-MB/s")
	b.ReportMetric(mb/inTime.Seconds(), "inproc-MB/s")
	b.ReportMetric(ourRate/adbRate, "ratio")
}
