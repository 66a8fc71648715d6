// Package apktest builds real APKs for tests with Debian's aapt, zipalign
// and apksigner, signed with keys made by openssl. A test that needs a
// missing tool fails under CI=true (make test installs them) and skips
// loudly elsewhere.
package apktest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// FrameworkRes is where Debian's android-framework-res puts the platform
// resources APK.
const FrameworkRes = "/usr/share/android-framework-res/framework-res.apk"

// NeedTool fails under CI (where make test installs the tools) and skips
// loudly elsewhere when a Debian tool the test needs is missing.
func NeedTool(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		p := n
		if !strings.HasPrefix(n, "/") {
			var err error
			if p, err = exec.LookPath(n); err != nil {
				p = ""
			}
		} else if _, err := os.Stat(n); err != nil {
			p = ""
		}
		if p == "" {
			msg := "MISSING TOOL " + n + ": install Debian packages aapt apksigner zipalign android-framework-res openssl (make deps does)"
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// Run runs a tool and fails the test with its output on error.
func Run(t testing.TB, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
}

// Key is a signing key and certificate made with openssl.
type Key struct {
	PK8, Cert string
}

var (
	keyOnce sync.Once
	keyDir  string
	keys    map[string]Key
)

// Keys makes an RSA 2048, an EC P-256 and a DSA 2048 key pair once per
// test binary, named "rsa", "ec" and "dsa".
func Keys(t testing.TB) map[string]Key {
	t.Helper()
	NeedTool(t, "openssl")
	keyOnce.Do(func() {
		dir, err := os.MkdirTemp("", "apk-keys-")
		if err != nil {
			t.Fatal(err)
		}
		keyDir = dir
		keys = map[string]Key{}
		dsaParams := filepath.Join(dir, "dsa-params.pem")
		Run(t, "openssl", "dsaparam", "-out", dsaParams, "2048")
		for _, k := range []struct{ name, alg string }{{"rsa", "rsa:2048"}, {"ec", "ec"}, {"dsa", "dsa:" + dsaParams}} {
			pem := filepath.Join(dir, k.name+".pem")
			cert := filepath.Join(dir, k.name+".crt")
			pk8 := filepath.Join(dir, k.name+".pk8")
			args := []string{"req", "-x509", "-nodes", "-days", "3650", "-subj", "/CN=permd test " + k.name, "-keyout", pem, "-out", cert}
			if k.alg == "ec" {
				args = append(args, "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256")
			} else {
				args = append(args, "-newkey", k.alg)
			}
			Run(t, "openssl", args...)
			Run(t, "openssl", "pkcs8", "-topk8", "-nocrypt", "-inform", "PEM", "-outform", "DER", "-in", pem, "-out", pk8)
			keys[k.name] = Key{PK8: pk8, Cert: cert}
		}
	})
	if keys == nil {
		t.Fatal("key generation failed earlier")
	}
	return keys
}

// DemoManifest is the test app's manifest; %s is the package.
const DemoManifest = `<?xml version="1.0" encoding="utf-8"?>
<manifest xmlns:android="http://schemas.android.com/apk/res/android"
    package="%s" android:versionCode="42" android:versionName="1.2.3"
    android:sharedUserId="com.example.shared">
  <uses-sdk android:minSdkVersion="24" android:targetSdkVersion="34"/>
  <uses-permission android:name="android.permission.CAMERA"/>
  <uses-permission android:name="android.permission.ACCESS_FINE_LOCATION"/>
  <uses-permission android:name="android.permission.CAMERA"/>
  <application android:label="Demo 演示" android:debuggable="false" android:allowBackup="false">
    <activity android:name=".Main" android:exported="true"/>
  </application>
</manifest>
`

// Opts says how to build and sign a test APK.
type Opts struct {
	Pkg     string
	Assets  map[string][]byte // extra files under assets/
	Filler  int               // bytes of incompressible filler in assets/
	Signers []string          // key names; empty = unsigned
	V1      bool
	V2      bool
	V3      bool
	// Rotate signs with a v3 key rotation from Signers[0] to Signers[1]
	// (apksigner rotate + --lineage): v1/v2 carry the old key, v3 the new
	// one with a proof-of-rotation.
	Rotate bool
}

// Build builds an APK with aapt, aligns it with zipalign and signs it
// with apksigner.
func Build(t testing.TB, dir string, o Opts) string {
	t.Helper()
	NeedTool(t, "aapt", "zipalign", "apksigner", FrameworkRes)
	if o.Pkg == "" {
		o.Pkg = "com.example.demo"
	}
	work := t.TempDir() // sources and intermediates; only the APK lands in dir
	src := filepath.Join(work, "src")
	os.MkdirAll(filepath.Join(src, "assets"), 0o755)
	man := filepath.Join(src, "AndroidManifest.xml")
	if err := os.WriteFile(man, []byte(strings.Replace(DemoManifest, "%s", o.Pkg, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for n, b := range o.Assets {
		os.WriteFile(filepath.Join(src, "assets", n), b, 0o644)
	}
	if o.Filler > 0 {
		b := make([]byte, o.Filler)
		x := uint32(2463534242)
		for i := range b {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			b[i] = byte(x)
		}
		os.WriteFile(filepath.Join(src, "assets", "filler.bin"), b, 0o644)
	}
	raw := filepath.Join(work, "raw.apk")
	args := []string{"package", "-f", "-M", man, "-I", FrameworkRes, "-F", raw}
	if len(o.Assets) > 0 || o.Filler > 0 {
		args = append(args, "-A", filepath.Join(src, "assets"))
	}
	Run(t, "aapt", args...)
	out := filepath.Join(dir, o.Pkg+".apk")
	if len(o.Signers) == 0 {
		Run(t, "zipalign", "-f", "4", raw, out)
		return out
	}
	aligned := filepath.Join(work, "aligned.apk")
	Run(t, "zipalign", "-f", "4", raw, aligned)
	ks := Keys(t)
	sargs := []string{"sign", "--out", out,
		"--v1-signing-enabled", boolArg(o.V1), "--v2-signing-enabled", boolArg(o.V2),
		"--v3-signing-enabled", boolArg(o.V3), "--v4-signing-enabled", "false", "--min-sdk-version", "24"}
	if o.Rotate {
		if len(o.Signers) != 2 {
			t.Fatal("Rotate needs two signers: old and new")
		}
		lineage := filepath.Join(work, "lineage")
		old, nw := ks[o.Signers[0]], ks[o.Signers[1]]
		Run(t, "apksigner", "rotate", "--out", lineage, "--old-signer", "--key", old.PK8, "--cert", old.Cert, "--new-signer", "--key", nw.PK8, "--cert", nw.Cert)
		sargs = append(sargs, "--lineage", lineage)
	}
	for i, s := range o.Signers {
		if i > 0 {
			sargs = append(sargs, "--next-signer")
		}
		sargs = append(sargs, "--key", ks[s].PK8, "--cert", ks[s].Cert)
	}
	sargs = append(sargs, aligned)
	Run(t, "apksigner", sargs...)
	return out
}

func boolArg(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// Cleanup removes the generated keys; call it from TestMain after m.Run
// (or from t.Cleanup: the next Keys call makes new ones).
func Cleanup() {
	if keyDir != "" {
		os.RemoveAll(keyDir)
	}
	keyOnce, keyDir, keys = sync.Once{}, "", nil
}
