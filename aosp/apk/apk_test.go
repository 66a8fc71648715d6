package apk

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"permd/aosp/apk/apktest"
)

func certSHA(t *testing.T, certPEM string) string {
	t.Helper()
	b, err := os.ReadFile(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(blk.Bytes)
	return hex.EncodeToString(s[:])
}

func checkResult(r *Report, prefix string) string {
	for _, c := range r.Checks {
		if strings.HasPrefix(c.Name, prefix) {
			return c.Result
		}
	}
	return ""
}

func TestInspectSignedAPKs(t *testing.T) {
	dir := t.TempDir()
	ks := apktest.Keys(t)
	rsa, ec, dsa := certSHA(t, ks["rsa"].Cert), certSHA(t, ks["ec"].Cert), certSHA(t, ks["dsa"].Cert)
	cases := []struct {
		name    string
		o       apktest.Opts
		schemes []string
		certs   []string
	}{
		{"v1 only", apktest.Opts{Pkg: "com.t.v1", Signers: []string{"rsa"}, V1: true}, []string{"v1"}, []string{rsa}},
		{"v2 only", apktest.Opts{Pkg: "com.t.v2", Signers: []string{"rsa"}, V2: true}, []string{"v2"}, []string{rsa}},
		{"v3 only", apktest.Opts{Pkg: "com.t.v3", Signers: []string{"ec"}, V3: true}, []string{"v3"}, []string{ec}},
		{"v1 v2 v3", apktest.Opts{Pkg: "com.t.all", Signers: []string{"rsa"}, V1: true, V2: true, V3: true}, []string{"v1", "v2", "v3"}, []string{rsa}},
		{"dsa v1 v2 v3", apktest.Opts{Pkg: "com.t.dsa", Signers: []string{"dsa"}, V1: true, V2: true, V3: true}, []string{"v1", "v2", "v3"}, []string{dsa}},
		{"two signers v1 v2", apktest.Opts{Pkg: "com.t.two", Signers: []string{"rsa", "ec"}, V1: true, V2: true}, []string{"v1", "v2"}, []string{rsa, ec}},
	}
	cases = append(cases, struct {
		name    string
		o       apktest.Opts
		schemes []string
		certs   []string
	}{"v3 key rotation", apktest.Opts{Pkg: "com.t.rot", Signers: []string{"rsa", "ec"}, V1: true, V2: true, V3: true, Rotate: true}, []string{"v1", "v2", "v3"}, []string{rsa, ec}})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := apktest.Build(t, dir, c.o)
			r, err := Inspect(p, Options{})
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if r.Failed() {
				t.Fatalf("report failed: errors %v checks %+v", r.Errors, r.Checks)
			}
			if !slices.Equal(r.Schemes, c.schemes) {
				t.Errorf("schemes = %v, want %v", r.Schemes, c.schemes)
			}
			want := slices.Clone(c.certs)
			slices.Sort(want)
			if got := r.SignerCerts(); !slices.Equal(got, want) {
				t.Errorf("signer certs = %v, want %v", got, want)
			}
			for _, s := range r.Signers {
				if !s.Verified {
					t.Errorf("signer %s %s not verified", s.Scheme, s.CertSHA256)
				}
			}
			m := r.Manifest
			if m.Package != c.o.Pkg || m.VersionCode != 42 || m.VersionName != "1.2.3" || m.MinSDK != 24 || m.TargetSDK != 34 || m.SharedUserID != "com.example.shared" {
				t.Errorf("manifest = %+v", m)
			}
			if want := []string{"android.permission.CAMERA", "android.permission.ACCESS_FINE_LOCATION"}; !slices.Equal(m.Permissions, want) {
				t.Errorf("permissions = %v, want %v", m.Permissions, want)
			}
			if m.Application["label"] != "Demo 演示" || m.Application["debuggable"] != "false" || m.Application["allowBackup"] != "false" {
				t.Errorf("application = %v", m.Application)
			}
			if c.o.Rotate {
				for _, s := range r.Signers {
					want := rsa
					if s.Scheme == "v3" {
						want = ec
					}
					if s.CertSHA256 != want || (s.Scheme == "v3") != s.Rotation {
						t.Errorf("rotation: %s signer %s rotation=%v, want cert %s and rotation only on v3", s.Scheme, s.CertSHA256, s.Rotation, want)
					}
				}
			}
			if (c.o.V2 || c.o.V3) && checkResult(r, "content digest") != CheckPass {
				t.Errorf("content digest check = %q, want pass; checks %+v", checkResult(r, "content digest"), r.Checks)
			}
		})
	}
}

func TestUnsignedFrameworkRes(t *testing.T) {
	apktest.NeedTool(t, apktest.FrameworkRes)
	r, err := Inspect(apktest.FrameworkRes, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := r.Manifest
	if m == nil || m.Package != "android" || m.SharedUserID != "android.uid.system" || m.VersionCode == 0 {
		t.Fatalf("framework-res manifest = %+v, errors %v", m, r.Errors)
	}
	if len(m.Permissions) == 0 {
		t.Error("framework-res: no uses-permission read")
	}
	if checkResult(r, "signed") != CheckFail || len(r.Schemes) != 0 {
		t.Errorf("unsigned framework-res: schemes %v, signed check %q; want none and fail", r.Schemes, checkResult(r, "signed"))
	}
}

// TestV31Block relabels a real v3 block as v3.1 (same format, other id).
func TestV31Block(t *testing.T) {
	p := apktest.Build(t, t.TempDir(), apktest.Opts{Pkg: "com.t.v31", Signers: []string{"rsa"}, V3: true})
	b, _ := os.ReadFile(p)
	var id [4]byte
	binary.LittleEndian.PutUint32(id[:], BlockV3)
	i := bytes.Index(b, id[:])
	if i < 0 {
		t.Fatal("v3 id not found")
	}
	binary.LittleEndian.PutUint32(b[i:], BlockV31)
	a, err := NewReader(bytes.NewReader(b), int64(len(b)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	r := a.Inspect(Options{})
	if !slices.Equal(r.Schemes, []string{"v3.1"}) || r.Failed() {
		t.Fatalf("schemes %v failed %v checks %+v", r.Schemes, r.Failed(), r.Checks)
	}
}

func TestTamperedSignedRegion(t *testing.T) {
	dir := t.TempDir()
	p := apktest.Build(t, dir, apktest.Opts{Pkg: "com.t.tamper", Signers: []string{"rsa"}, V2: true, Assets: map[string][]byte{"privacy.html": []byte("<p>rules</p>")}})
	b, _ := os.ReadFile(p)
	i := bytes.Index(b, []byte("<p>rules</p>"))
	if i < 0 {
		t.Fatal("stored asset not found")
	}
	b[i+3] = 'X'
	a, err := NewReader(bytes.NewReader(b), int64(len(b)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	r := a.Inspect(Options{})
	if checkResult(r, "content digest") != CheckFail || !r.Failed() {
		t.Fatalf("tampered APK: content digest %q, want fail; checks %+v", checkResult(r, "content digest"), r.Checks)
	}
	for _, c := range r.Checks {
		if c.Result == CheckFail && !strings.Contains(c.Detail, "modified after signing") {
			t.Errorf("failure detail %q does not say the signed region was modified", c.Detail)
		}
	}

	// v1 only: change a stored entry, then add an entry.
	pv := apktest.Build(t, dir, apktest.Opts{Pkg: "com.t.tamperv1", Signers: []string{"rsa"}, V1: true, Assets: map[string][]byte{"privacy.html": []byte("<p>rules</p>")}})
	bv, _ := os.ReadFile(pv)
	av, _ := NewReader(bytes.NewReader(bv), int64(len(bv)), Limits{})
	if r := av.Inspect(Options{}); checkResult(r, "v1 entry digests") != CheckPass {
		t.Fatalf("v1-only APK: entry digests %q, want pass; %+v", checkResult(r, "v1 entry digests"), r.Checks)
	}
	i = bytes.Index(bv, []byte("<p>rules</p>"))
	if i < 0 {
		t.Fatal("stored asset not found in the v1 APK")
	}
	bv[i+3] = 'X'
	av, _ = NewReader(bytes.NewReader(bv), int64(len(bv)), Limits{})
	if r := av.Inspect(Options{}); checkResult(r, "v1 entry digests") != CheckFail || !r.Failed() {
		t.Errorf("v1-only APK with a modified entry: entry digests %q, want fail", checkResult(r, "v1 entry digests"))
	}
	bv2, _ := os.ReadFile(pv)
	bv2 = rewriteEntry(t, bv2, "", nil, "assets/extra.txt")
	av, err = NewReader(bytes.NewReader(bv2), int64(len(bv2)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if r := av.Inspect(Options{}); checkResult(r, "v1 entry digests") != CheckFail || !strings.Contains(fmt.Sprint(r.Checks), "added after signing") {
		t.Errorf("v1-only APK with an added entry: checks %+v", r.Checks)
	}

	// v1: change MANIFEST.MF after signing.
	p1 := apktest.Build(t, dir, apktest.Opts{Pkg: "com.t.tamper1", Signers: []string{"rsa"}, V1: true})
	b1, _ := os.ReadFile(p1)
	a1, _ := NewReader(bytes.NewReader(b1), int64(len(b1)), Limits{})
	zf := a1.entries["META-INF/MANIFEST.MF"]
	off, _ := zf.DataOffset()
	if zf.Method != zip.Deflate {
		b1[off+10] ^= 1
	} else {
		// Rewrite the zip with a changed manifest instead.
		b1 = rewriteEntry(t, b1, "META-INF/MANIFEST.MF", func(x []byte) []byte { return append(x, "Extra: 1\r\n"...) }, "")
	}
	a1, err = NewReader(bytes.NewReader(b1), int64(len(b1)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	r1 := a1.Inspect(Options{})
	if !r1.Failed() {
		t.Fatalf("v1 APK with modified MANIFEST.MF passed: %+v", r1.Checks)
	}
}

// rewriteEntry copies a zip, transforming one entry and adding another
// (when add is not empty).
func rewriteEntry(t *testing.T, b []byte, name string, f func([]byte) []byte, add string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, e := range zr.File {
		rc, _ := e.Open()
		var data bytes.Buffer
		data.ReadFrom(rc)
		rc.Close()
		d := data.Bytes()
		if e.Name == name {
			d = f(d)
		}
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: e.Name, Method: e.Method})
		w.Write(d)
	}
	if add != "" {
		w, _ := zw.Create(add)
		w.Write([]byte("added"))
	}
	zw.Close()
	return out.Bytes()
}

func makeZip(t testing.TB, files map[string][]byte, method uint16) []byte {
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for n, d := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(d)
	}
	zw.Close()
	return out.Bytes()
}

func demoManifestBytes(t testing.TB) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", "demo-manifest.bin"))
	if err != nil {
		t.Fatalf("testdata: %v", err)
	}
	return b
}

func TestBadInput(t *testing.T) {
	man := demoManifestBytes(t)
	good := makeZip(t, map[string][]byte{"AndroidManifest.xml": man}, zip.Deflate)
	bomb := makeZip(t, map[string][]byte{"AndroidManifest.xml": make([]byte, 16<<20)}, zip.Deflate)
	corruptPool := bytes.Clone(man)
	binary.LittleEndian.PutUint32(corruptPool[8+8:], 0x7fffffff) // string count
	badChunk := bytes.Clone(man)
	binary.LittleEndian.PutUint32(badChunk[8+4:], uint32(len(man)*2)) // string pool size
	badRoot := bytes.Clone(man)
	binary.LittleEndian.PutUint32(badRoot[4:], uint32(len(man)+100))
	badOffset := bytes.Clone(man)
	hdr := int(binary.LittleEndian.Uint16(badOffset[8+2:]))
	binary.LittleEndian.PutUint32(badOffset[8+hdr:], 0xfffff0) // first string offset

	cases := []struct {
		name  string
		zip   []byte
		limit Limits
		want  string // substring of the error
		open  bool   // error at open (else at Manifest)
	}{
		{"truncated zip", good[:len(good)/2], Limits{}, "end-of-central-directory", true},
		{"empty file", nil, Limits{}, "too short", true},
		{"not a zip", []byte(strings.Repeat("hello world ", 20)), Limits{}, "end-of-central-directory", true},
		{"zip bomb", bomb, Limits{}, "declares 16777216 bytes uncompressed", false},
		{"zip bomb by ratio", bomb, Limits{MaxManifest: 1 << 30, MaxRatio: 100}, "compression ratio", false},
		{"missing manifest", makeZip(t, map[string][]byte{"classes.dex": []byte("dex")}, zip.Deflate), Limits{}, "no AndroidManifest.xml", false},
		{"corrupt string pool", makeZip(t, map[string][]byte{"AndroidManifest.xml": corruptPool}, zip.Deflate), Limits{}, "string pool", false},
		{"string offset out of range", makeZip(t, map[string][]byte{"AndroidManifest.xml": badOffset}, zip.Deflate), Limits{}, "past the string pool end", false},
		{"wrong chunk size", makeZip(t, map[string][]byte{"AndroidManifest.xml": badChunk}, zip.Deflate), Limits{}, "do not fit", false},
		{"wrong document size", makeZip(t, map[string][]byte{"AndroidManifest.xml": badRoot}, zip.Deflate), Limits{}, "do not fit", false},
		{"text manifest", makeZip(t, map[string][]byte{"AndroidManifest.xml": []byte("<manifest package='x'/>")}, zip.Deflate), Limits{}, "not a binary XML", false},
		{"truncated manifest", makeZip(t, map[string][]byte{"AndroidManifest.xml": man[:len(man)-10]}, zip.Deflate), Limits{}, "do not fit", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := NewReader(bytes.NewReader(c.zip), int64(len(c.zip)), c.limit)
			if err == nil {
				if c.open {
					t.Fatalf("open succeeded, want error containing %q", c.want)
				}
				_, err = a.Manifest()
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %v, want one containing %q", err, c.want)
			}
			if c.name == "missing manifest" && !errors.Is(err, ErrNoManifest) {
				t.Errorf("error %v is not ErrNoManifest", err)
			}
			// Inspect never panics and reports the problem.
			if a != nil {
				r := a.Inspect(Options{})
				if !r.Failed() {
					t.Errorf("Inspect of bad input did not fail")
				}
			}
		})
	}
}

func TestSigningBlockErrors(t *testing.T) {
	blk, err := os.ReadFile(filepath.Join("testdata", "demo-sigblock.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseSigningBlock(blk); err != nil {
		t.Fatalf("good block: %v", err)
	}
	mut := func(f func(b []byte)) []byte { b := bytes.Clone(blk); f(b); return b }
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"sizes disagree", mut(func(b []byte) { binary.LittleEndian.PutUint64(b, 12345) }), "size fields disagree"},
		{"bad magic", mut(func(b []byte) { b[len(b)-1] = 'x' }), "magic"},
		{"pair too long", mut(func(b []byte) { binary.LittleEndian.PutUint64(b[8:], 1<<40) }), "does not fit"},
		{"short", blk[:20], "too short"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSigningBlock(c.b)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %v, want one containing %q", err, c.want)
			}
		})
	}
	// A v2 value with a signer length past the end.
	b, _ := ParseSigningBlock(blk)
	v, _ := b.Find(BlockV2)
	bad := bytes.Clone(v)
	binary.LittleEndian.PutUint32(bad[4:], 1<<30)
	if _, err := parseSchemeBlock(bad, "v2"); err == nil || !strings.Contains(err.Error(), "declares") {
		t.Errorf("corrupt v2 signer: error %v, want one about a declared length", err)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	apktest.Cleanup()
	os.Exit(code)
}
