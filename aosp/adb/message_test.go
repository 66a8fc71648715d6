package adb

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMessageRoundTripAndChecksum(t *testing.T) {
	m := Message{Command: CmdWRTE, Arg0: 7, Arg1: 9, Data: []byte("héllo\xff")}
	for _, withSum := range []bool{true, false} {
		var buf bytes.Buffer
		hdr := make([]byte, HeaderSize)
		EncodeHeader(hdr, m, withSum)
		buf.Write(hdr)
		buf.Write(m.Data)
		mode := CheckNever
		if withSum {
			mode = CheckAlways
		}
		got, err := ReadMessage(&buf, MaxPayload, mode)
		if err != nil || got.Command != m.Command || got.Arg0 != 7 || got.Arg1 != 9 || !bytes.Equal(got.Data, m.Data) {
			t.Errorf("round trip (checksum %v): got %v, %v", withSum, got, err)
		}
	}
	// 0x68+0xc3+0xa9+0x6c+0x6c+0x6f+0xff: the byte sum, no CRC.
	if got := Checksum([]byte("héllo\xff")); got != 0x68+0xc3+0xa9+0x6c+0x6c+0x6f+0xff {
		t.Errorf("checksum %#x", got)
	}
	hdr := make([]byte, HeaderSize)
	EncodeHeader(hdr, Message{Command: CmdCNXN, Arg0: Version, Arg1: MaxPayload, Data: []byte("x")}, true)
	want := "434e584e" + "01000001" + "00001000" + "01000000" + "78000000" + "bcb1a7b1"
	if got := bytesHex(hdr); got != want {
		t.Errorf("CNXN header\n got %s\nwant %s", got, want)
	}
	bad := append([]byte(nil), hdr...)
	bad = append(bad, 'y')
	if _, err := ReadMessage(bytes.NewReader(bad), MaxPayload, CheckAlways); !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("wrong checksum: want ErrProtocol naming the checksum, got %v", err)
	}
	if _, err := ReadMessage(bytes.NewReader(bad), MaxPayload, CheckNever); err != nil {
		t.Errorf("wrong checksum under VersionSkipChecksum must pass, got %v", err)
	}
}

func bytesHex(b []byte) string {
	const h = "0123456789abcdef"
	var s strings.Builder
	for _, x := range b {
		s.WriteByte(h[x>>4])
		s.WriteByte(h[x&15])
	}
	return s.String()
}

func TestPublicKeyFormat(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		t.Fatal(err)
	}
	text := EncodePublicKey(&priv.PublicKey) + " someone@somewhere\x00"
	pub, comment, err := ParsePublicKey(text)
	if err != nil || pub.N.Cmp(priv.N) != 0 || pub.E != 65537 || comment != "someone@somewhere" {
		t.Fatalf("round trip: %v %q", err, comment)
	}
	raw, _ := base64.StdEncoding.DecodeString(EncodePublicKey(&priv.PublicKey))
	if len(raw) != 524 {
		t.Errorf("RSAPublicKey struct is %d bytes, want 524", len(raw))
	}
	// n0inv * n[0] == -1 mod 2^32.
	n0 := uint32(priv.N.Uint64())
	n0inv := uint32(raw[4]) | uint32(raw[5])<<8 | uint32(raw[6])<<16 | uint32(raw[7])<<24
	if n0*n0inv != 0xffffffff {
		t.Errorf("n0inv*n0 = %#x, want -1 mod 2^32", n0*n0inv)
	}
	for name, off := range map[string]int{"n0inv": 4, "rr": 8 + keyBytes + 3} {
		b := append([]byte(nil), raw...)
		b[off] ^= 1
		if _, _, err := ParsePublicKey(base64.StdEncoding.EncodeToString(b)); err == nil {
			t.Errorf("tampered %s accepted", name)
		}
	}
	if _, _, err := ParsePublicKey("bm90IGEga2V5"); err == nil || !strings.Contains(err.Error(), "bytes") {
		t.Errorf("short key: want a size error, got %v", err)
	}
}

func TestKeyFilesAndSignature(t *testing.T) {
	dir := t.TempDir()
	k, err := GenerateKey(filepath.Join(dir, "adbkey"))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(k.Path); st.Mode().Perm() != 0o600 {
		t.Errorf("adbkey mode %v, want 0600", st.Mode().Perm())
	}
	if _, err := GenerateKey(k.Path); err == nil {
		t.Error("GenerateKey overwrote an existing key")
	}
	k2, err := LoadKey(k.Path)
	if err != nil || k2.Private.N.Cmp(k.Private.N) != 0 {
		t.Fatalf("load: %v", err)
	}
	// Older adb wrote PKCS#1.
	p1 := filepath.Join(dir, "old")
	os.WriteFile(p1, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k.Private)}), 0o600)
	if _, err := LoadKey(p1); err != nil {
		t.Errorf("PKCS#1 key: %v", err)
	}
	os.WriteFile(p1, []byte("not a key"), 0o600)
	if _, err := LoadKey(p1); err == nil || !strings.Contains(err.Error(), "no PEM block") {
		t.Errorf("garbage key file: want a clear error, got %v", err)
	}
	token := make([]byte, TokenSize)
	rand.Read(token)
	sig, err := k.Sign(token)
	if err != nil || len(sig) != keyBytes {
		t.Fatalf("sign: %d bytes, %v", len(sig), err)
	}
	if err := VerifyToken(&k.Private.PublicKey, token, sig); err != nil {
		t.Errorf("verify: %v", err)
	}
	token[0] ^= 1
	if VerifyToken(&k.Private.PublicKey, token, sig) == nil {
		t.Error("a signature over another token verified")
	}
	if _, err := k.Sign(make([]byte, 32)); err == nil {
		t.Error("signed a token that is not 20 bytes")
	}
}

func TestHostKeysCreatesUserKeyAndReadsVendorKeys(t *testing.T) {
	home := t.TempDir()
	vendor := t.TempDir()
	if _, err := GenerateKey(filepath.Join(vendor, "lab.adb_key")); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOME": home, "ADB_VENDOR_KEYS": vendor}
	keys, err := HostKeys(func(k string) string { return env[k] })
	if err != nil || len(keys) != 2 {
		t.Fatalf("want the user key and one vendor key, got %d, %v", len(keys), err)
	}
	if keys[0].Path != filepath.Join(home, ".android", "adbkey") {
		t.Errorf("user key at %s", keys[0].Path)
	}
	again, err := HostKeys(func(k string) string { return env[k] })
	if err != nil || again[0].Private.N.Cmp(keys[0].Private.N) != 0 {
		t.Errorf("second call made a new user key instead of reading it (%v)", err)
	}
	env["ADB_VENDOR_KEYS"] = filepath.Join(vendor, "absent")
	if _, err := HostKeys(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "ADB_VENDOR_KEYS") {
		t.Errorf("missing vendor key: want an error naming ADB_VENDOR_KEYS, got %v", err)
	}
}
