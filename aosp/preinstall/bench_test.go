package preinstall

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"permd/aosp/apk"
	"permd/aosp/apk/apktest"
)

// benchSet is a mix of real APKs: 8 small (the demo manifest, 8 KB),
// one medium (4 MiB of incompressible assets) and one large (Debian's
// framework-res.apk, 45 MB and 7600 entries, signed v1+v2+v3 here).
type benchSet struct {
	dir    string
	mix    []string
	folder string // 100 APKs laid out as a product's app folders
	reg    *Registry
}

var (
	benchOnce sync.Once
	bench     *benchSet
)

func benchFixtures(b *testing.B) *benchSet {
	b.Helper()
	apktest.NeedTool(b, "aapt", "apksigner", "zipalign", apktest.FrameworkRes)
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "preinstall-bench-")
		if err != nil {
			b.Fatal(err)
		}
		s := &benchSet{dir: dir, reg: &Registry{Records: map[string]*Record{}, Files: map[string]string{}}}
		built := filepath.Join(dir, "built")
		os.MkdirAll(built, 0o755)
		var small []string
		for i := 0; i < 8; i++ {
			o := apktest.Opts{Pkg: fmt.Sprintf("com.bench.small%d", i), Signers: []string{"rsa"}, Assets: map[string][]byte{"privacy.html": []byte("rules")}}
			switch i % 3 {
			case 0:
				o.V1, o.V2, o.V3 = true, true, true
			case 1:
				o.V2 = true
			case 2:
				o.V1, o.V3 = true, true
			}
			small = append(small, apktest.Build(b, built, o))
		}
		medium := apktest.Build(b, built, apktest.Opts{Pkg: "com.bench.medium", Signers: []string{"ec"}, V1: true, V2: true, V3: true, Filler: 4 << 20, Assets: map[string][]byte{"privacy.html": []byte("rules")}})
		ks := apktest.Keys(b)
		large := filepath.Join(built, "framework-res-signed.apk")
		apktest.Run(b, "apksigner", "sign", "--key", ks["rsa"].PK8, "--cert", ks["rsa"].Cert, "--min-sdk-version", "24", "--v4-signing-enabled", "false", "--out", large, apktest.FrameworkRes)
		s.mix = append(append(small, medium), large)

		// 100 APKs: each small one 12 times, the medium one 4 times.
		s.folder = filepath.Join(dir, "product")
		n := 0
		for _, src := range append(small, medium) {
			copies := 12
			if src == medium {
				copies = 4
			}
			for c := 0; c < copies; c++ {
				app := filepath.Join(s.folder, "app", fmt.Sprintf("App%03d", n))
				os.MkdirAll(app, 0o755)
				copyFile(b, src, filepath.Join(app, fmt.Sprintf("App%03d.apk", n)))
				n++
			}
		}
		for _, p := range append(small, medium) {
			r, err := apk.Inspect(p, apk.Options{})
			if err != nil {
				b.Fatal(err)
			}
			rec := goodRecord(r.Manifest.Package, r.SignerCerts()[0])
			s.reg.Records[rec.Package] = rec
			s.reg.Files[rec.Package] = rec.Package + ".json"
		}
		bench = s
	})
	if bench == nil {
		b.Fatal("bench fixtures failed earlier")
	}
	return bench
}

func copyFile(b *testing.B, from, to string) {
	in, err := os.Open(from)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	out.Close()
}

// rounds is how often each side is timed; the best round counts, for
// every side alike, so a burst of load from other work on the machine
// does not decide the comparison.
const rounds = 3

func best(f func() time.Duration) time.Duration {
	var min time.Duration
	for i := 0; i < rounds; i++ {
		if d := f(); i == 0 || d < min {
			min = d
		}
	}
	return min
}

// timeTool runs a tool once per file, sequentially, and returns the best
// wall time of the rounds. The tool must succeed on every file.
func timeTool(b *testing.B, files []string, name string, args ...string) time.Duration {
	b.Helper()
	return best(func() time.Duration {
		start := time.Now()
		for _, f := range files {
			cmd := exec.Command(name, append(append([]string{}, args...), f)...)
			cmd.Stdout = io.Discard
			var errb strings.Builder
			cmd.Stderr = &errb
			if err := cmd.Run(); err != nil {
				b.Fatalf("%s %s: %v: %s", name, f, err, errb.String())
			}
		}
		return time.Since(start)
	})
}

// timeOurs runs run once to warm the page cache for every side, then
// returns the mean over b.N of its best of rounds, timed by the
// benchmark.
func timeOurs(b *testing.B, run func() time.Duration) time.Duration {
	run()
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		total += best(run)
	}
	b.StopTimer()
	return total / time.Duration(b.N)
}

// timeReference times the two Debian tools that do the same work over
// files: aapt dump badging (manifest) and apksigner verify --print-certs
// (signatures).
func timeReference(b *testing.B, files []string) (aapt, signer time.Duration) {
	b.Helper()
	return timeTool(b, files, "aapt", "dump", "badging"), timeTool(b, files, "apksigner", "verify", "--print-certs")
}

var (
	cliOnce sync.Once
	cliPath string
)

// buildCLI builds preinstall-check, to compare process against process.
func buildCLI(b *testing.B) string {
	cliOnce.Do(func() {
		out := filepath.Join(bench.dir, "preinstall-check")
		goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
		if msg, err := exec.Command(goBin, "build", "-o", out, "permd/cmd/preinstall-check").CombinedOutput(); err != nil {
			b.Fatalf("build preinstall-check: %v\n%s", err, msg)
		}
		cliPath = out
	})
	return cliPath
}

// BenchmarkInspect: APKs inspected per second (manifest, signers, v2/v3
// signatures and content digests, v1 PKCS#7), on the mix, next to
// `aapt dump badging` and `apksigner verify --print-certs` on the same
// files in the same run. "cli" execs preinstall-check inspect per file,
// process for process with the Debian tools.
func BenchmarkInspect(b *testing.B) {
	s := benchFixtures(b)
	cli := buildCLI(b)
	inspectAll := func() time.Duration {
		start := time.Now()
		for _, f := range s.mix {
			r, err := apk.Inspect(f, apk.Options{})
			if err != nil || r.Failed() {
				b.Fatalf("%s: %v %v", f, err, r.Checks)
			}
		}
		return time.Since(start)
	}
	oursRate := float64(len(s.mix)) / timeOurs(b, inspectAll).Seconds()
	cliRate := float64(len(s.mix)) / timeTool(b, s.mix, cli, "inspect", "--json").Seconds()
	// Without recomputing the v2/v3 content digests: closer to the work
	// aapt dump badging does (it verifies no signature at all).
	cliLight := float64(len(s.mix)) / timeTool(b, s.mix, cli, "inspect", "--json", "--no-content-digest").Seconds()
	aapt, signer := timeReference(b, s.mix)
	aaptRate := float64(len(s.mix)) / aapt.Seconds()
	signerRate := float64(len(s.mix)) / signer.Seconds()
	b.ReportMetric(oursRate, "apks/s")
	b.ReportMetric(cliRate, "cli-apks/s")
	b.ReportMetric(aaptRate, "aapt-apks/s")
	b.ReportMetric(signerRate, "apksigner-apks/s")
	b.ReportMetric(cliLight, "cli-nodigest-apks/s")
	b.ReportMetric(cliRate/aaptRate, "cli-vs-aapt-x")
	b.ReportMetric(cliLight/aaptRate, "cli-nodigest-vs-aapt-x")
	b.ReportMetric(cliRate/signerRate, "cli-vs-apksigner-x")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkInspectLarge: the 45 MB framework-res alone (content digest
// dominates), against the same two tools.
func BenchmarkInspectLarge(b *testing.B) {
	s := benchFixtures(b)
	large := s.mix[len(s.mix)-1:]
	one := func() time.Duration {
		start := time.Now()
		if _, err := apk.Inspect(large[0], apk.Options{}); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	ours := timeOurs(b, one)
	aapt, signer := timeReference(b, large)
	b.ReportMetric(float64(ours.Milliseconds()), "ms/apk")
	b.ReportMetric(float64(aapt.Milliseconds()), "aapt-ms")
	b.ReportMetric(float64(signer.Milliseconds()), "apksigner-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkVerifyFolder: verify a product folder of 100 APKs against the
// registry (every APK read, signatures and content digests checked,
// records validated), next to running aapt dump badging and apksigner
// verify --print-certs over the same 100 files.
func BenchmarkVerifyFolder(b *testing.B) {
	s := benchFixtures(b)
	files, err := FindAPKs(s.folder)
	if err != nil || len(files) != 100 {
		b.Fatalf("folder: %d APKs, %v", len(files), err)
	}
	c := &Checker{Registry: s.reg, Now: today}
	verify := func() time.Duration {
		start := time.Now()
		res, err := c.CheckPaths(s.folder)
		if err != nil || !res.OK() {
			var fails []string
			for _, f := range res.Findings {
				if f.Severity == SevFail {
					fails = append(fails, f.String())
				}
			}
			b.Fatalf("verify: %v\n%s", err, strings.Join(fails, "\n"))
		}
		return time.Since(start)
	}
	ours := timeOurs(b, verify)
	aapt, signer := timeReference(b, files)
	b.ReportMetric(float64(ours.Milliseconds()), "ms/100apks")
	b.ReportMetric(float64(aapt.Milliseconds()), "aapt-ms")
	b.ReportMetric(float64(signer.Milliseconds()), "apksigner-ms")
	b.ReportMetric(float64(aapt)/float64(ours), "vs-aapt-x")
	b.ReportMetric(float64(signer)/float64(ours), "vs-apksigner-x")
	b.ReportMetric(0, "ns/op")
}
