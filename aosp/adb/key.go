package adb

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha1" // the AUTH signature's DigestInfo is SHA-1's
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
)

// adb keys are 2048-bit RSA with exponent 65537; the public half travels
// in android_pubkey's RSAPublicKey struct: modulus size in 32-bit words,
// n0inv = -1/n mod 2^32, the modulus and R^2 mod n (R = 2^2048) as
// little-endian byte arrays, then the exponent.
const (
	keyBits       = 2048
	keyWords      = keyBits / 32
	keyBytes      = keyBits / 8
	pubStructSize = 4 + 4 + keyBytes + keyBytes + 4
	// TokenSize is the size of the AUTH token adbd signs challenges with.
	TokenSize = 20
)

// Key is one host key: adb's ~/.android/adbkey and its public half.
type Key struct {
	Path    string // where it was read from, for messages
	Private *rsa.PrivateKey
}

// PublicKeyText is the key's public half as adb writes adbkey.pub and
// sends it in AUTH RSAPUBLICKEY: base64 of the RSAPublicKey struct, a
// space and user@host.
func (k *Key) PublicKeyText() string {
	return EncodePublicKey(&k.Private.PublicKey) + " " + userAtHost()
}

// Sign signs an AUTH token the way adb does: RSA PKCS#1 v1.5 over the
// token used as the digest, with SHA-1's DigestInfo prefix.
func (k *Key) Sign(token []byte) ([]byte, error) {
	if len(token) != TokenSize {
		return nil, fmt.Errorf("auth token is %d bytes, want %d", len(token), TokenSize)
	}
	return rsa.SignPKCS1v15(nil, k.Private, crypto.SHA1, token)
}

// VerifyToken checks a signature made by Key.Sign or by adb itself.
func VerifyToken(pub *rsa.PublicKey, token, sig []byte) error {
	if len(token) != TokenSize {
		return fmt.Errorf("auth token is %d bytes, want %d", len(token), TokenSize)
	}
	return rsa.VerifyPKCS1v15(pub, crypto.SHA1, token, sig)
}

func userAtHost() string {
	user := os.Getenv("USER")
	if user == "" {
		user = "unknown"
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return user + "@" + host
}

// EncodePublicKey encodes pub in android_pubkey's format, base64.
func EncodePublicKey(pub *rsa.PublicKey) string {
	b := make([]byte, pubStructSize)
	le := binary.LittleEndian
	le.PutUint32(b[0:], keyWords)
	// n0inv: the inverse of -n modulo 2^32, for Montgomery multiplication.
	r32 := new(big.Int).Lsh(big.NewInt(1), 32)
	n0 := new(big.Int).Mod(pub.N, r32)
	inv := new(big.Int).ModInverse(n0, r32)
	inv.Sub(r32, inv)
	le.PutUint32(b[4:], uint32(inv.Uint64()))
	putLE(b[8:8+keyBytes], pub.N)
	rr := new(big.Int).Lsh(big.NewInt(1), 2*keyBits)
	rr.Mod(rr, pub.N)
	putLE(b[8+keyBytes:8+2*keyBytes], rr)
	le.PutUint32(b[8+2*keyBytes:], uint32(pub.E))
	return base64.StdEncoding.EncodeToString(b)
}

// putLE writes x into b as a little-endian number of len(b) bytes.
func putLE(b []byte, x *big.Int) {
	be := x.FillBytes(make([]byte, len(b)))
	for i := range be {
		b[i] = be[len(be)-1-i]
	}
}

func getLE(b []byte) *big.Int {
	be := make([]byte, len(b))
	for i := range b {
		be[i] = b[len(b)-1-i]
	}
	return new(big.Int).SetBytes(be)
}

// ParsePublicKey reads one adbkey.pub line (or an AUTH RSAPUBLICKEY
// payload): base64 of the RSAPublicKey struct, optionally followed by a
// space and a comment such as user@host, and a NUL. It checks that the
// precomputed n0inv and R^2 agree with the modulus, as adbd's parser
// relies on them.
func ParsePublicKey(text string) (*rsa.PublicKey, string, error) {
	text = strings.TrimRight(text, "\x00\r\n ")
	b64, comment, _ := strings.Cut(text, " ")
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, "", fmt.Errorf("adb public key: not base64: %w", err)
	}
	if len(b) != pubStructSize {
		return nil, "", fmt.Errorf("adb public key: %d bytes, want %d (2048-bit RSAPublicKey)", len(b), pubStructSize)
	}
	le := binary.LittleEndian
	if w := le.Uint32(b[0:]); w != keyWords {
		return nil, "", fmt.Errorf("adb public key: modulus of %d words, want %d", w, keyWords)
	}
	pub := &rsa.PublicKey{N: getLE(b[8 : 8+keyBytes]), E: int(le.Uint32(b[8+2*keyBytes:]))}
	if pub.N.Sign() == 0 || pub.N.Bit(0) == 0 || pub.E < 3 || pub.E%2 == 0 {
		return nil, "", errors.New("adb public key: not a valid RSA modulus or exponent")
	}
	if want := EncodePublicKey(pub); want != b64 {
		return nil, "", errors.New("adb public key: n0inv or R^2 do not match the modulus")
	}
	return pub, comment, nil
}

// LoadKey reads an adb private key: PEM, PKCS#8 ("PRIVATE KEY", what adb
// writes) or PKCS#1 ("RSA PRIVATE KEY", older adb).
func LoadKey(path string) (*Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read adb key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("adb key %s: no PEM block", path)
	}
	var priv *rsa.PrivateKey
	switch blk.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("adb key %s: %w", path, err)
		}
		var ok bool
		if priv, ok = k.(*rsa.PrivateKey); !ok {
			return nil, fmt.Errorf("adb key %s: %T, want RSA", path, k)
		}
	case "RSA PRIVATE KEY":
		if priv, err = x509.ParsePKCS1PrivateKey(blk.Bytes); err != nil {
			return nil, fmt.Errorf("adb key %s: %w", path, err)
		}
	default:
		return nil, fmt.Errorf("adb key %s: PEM block %q, want PRIVATE KEY", path, blk.Type)
	}
	if priv.N.BitLen() != keyBits {
		return nil, fmt.Errorf("adb key %s: %d-bit RSA, adb uses %d", path, priv.N.BitLen(), keyBits)
	}
	return &Key{Path: path, Private: priv}, nil
}

// GenerateKey makes a new key the way adb does and writes it to path
// (PKCS#8 PEM, mode 0600) and path+".pub" (the public key text).
func GenerateKey(path string) (*Key, error) {
	priv, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, fmt.Errorf("generate adb key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode adb key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("adb key dir: %w", err)
	}
	k := &Key{Path: path, Private: priv}
	if err := writeNew(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	if err := writeNew(path+".pub", []byte(k.PublicKeyText()), 0o644); err != nil {
		return nil, err
	}
	return k, nil
}

// writeNew writes a file that must not exist yet, so two tools starting at
// once cannot overwrite each other's fresh key.
func writeNew(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("write adb key: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write adb key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write adb key: %w", err)
	}
	return nil
}

// UserKeyPath is where adb keeps the user's key: $ANDROID_SDK_HOME/.android
// or $HOME/.android, file adbkey.
func UserKeyPath(getenv func(string) string) (string, error) {
	if d := getenv("ANDROID_SDK_HOME"); d != "" {
		return filepath.Join(d, ".android", "adbkey"), nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", errors.New("adb key: neither $HOME nor $ANDROID_SDK_HOME is set")
	}
	return filepath.Join(home, ".android", "adbkey"), nil
}

// HostKeys returns the keys adb would offer, in its order: the user key
// (created if absent, as adb does), then each key named by
// $ADB_VENDOR_KEYS (colon-separated files, or folders of *.adb_key files).
func HostKeys(getenv func(string) string) ([]*Key, error) {
	path, err := UserKeyPath(getenv)
	if err != nil {
		return nil, err
	}
	user, err := LoadKey(path)
	if errors.Is(err, os.ErrNotExist) {
		user, err = GenerateKey(path)
	}
	if err != nil {
		return nil, err
	}
	keys := []*Key{user}
	for _, p := range strings.Split(getenv("ADB_VENDOR_KEYS"), ":") {
		if p == "" {
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("ADB_VENDOR_KEYS: %w", err)
		}
		files := []string{p}
		if st.IsDir() {
			files, _ = filepath.Glob(filepath.Join(p, "*.adb_key"))
		}
		for _, f := range files {
			k, err := LoadKey(f)
			if err != nil {
				return nil, fmt.Errorf("ADB_VENDOR_KEYS: %w", err)
			}
			keys = append(keys, k)
		}
	}
	return keys, nil
}
