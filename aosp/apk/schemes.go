package apk

import (
	"bytes"
	"crypto"
	"crypto/dsa" //nolint:staticcheck // DSA signers exist in old APKs; reading them is not choosing them
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/big"
	"runtime"
	"sync"
)

// Signature algorithm ids of the v2/v3 schemes.
const (
	sigRSAPSSSHA256      = 0x0101
	sigRSAPSSSHA512      = 0x0102
	sigRSAPKCS1SHA256    = 0x0103
	sigRSAPKCS1SHA512    = 0x0104
	sigECDSASHA256       = 0x0201
	sigECDSASHA512       = 0x0202
	sigDSASHA256         = 0x0301
	sigVerityRSASHA256   = 0x0421
	sigVerityECDSASHA256 = 0x0423
	sigVerityDSASHA256   = 0x0425
)

type sigAlg struct {
	name    string
	hash    crypto.Hash // over the signed data
	content string      // content digest kind: "sha256", "sha512", "verity"
}

var sigAlgs = map[uint32]sigAlg{
	sigRSAPSSSHA256:      {"RSA-PSS-SHA256", crypto.SHA256, "sha256"},
	sigRSAPSSSHA512:      {"RSA-PSS-SHA512", crypto.SHA512, "sha512"},
	sigRSAPKCS1SHA256:    {"RSA-PKCS1-SHA256", crypto.SHA256, "sha256"},
	sigRSAPKCS1SHA512:    {"RSA-PKCS1-SHA512", crypto.SHA512, "sha512"},
	sigECDSASHA256:       {"ECDSA-SHA256", crypto.SHA256, "sha256"},
	sigECDSASHA512:       {"ECDSA-SHA512", crypto.SHA512, "sha512"},
	sigDSASHA256:         {"DSA-SHA256", crypto.SHA256, "sha256"},
	sigVerityRSASHA256:   {"VERITY-RSA-PKCS1-SHA256", crypto.SHA256, "verity"},
	sigVerityECDSASHA256: {"VERITY-ECDSA-SHA256", crypto.SHA256, "verity"},
	sigVerityDSASHA256:   {"VERITY-DSA-SHA256", crypto.SHA256, "verity"},
}

func algName(id uint32) string {
	if a, ok := sigAlgs[id]; ok {
		return a.name
	}
	return fmt.Sprintf("0x%04x", id)
}

// schemeSigner is one signer parsed from a v2/v3/v3.1 block.
type schemeSigner struct {
	certs      [][]byte          // DER, first is the signer's
	digests    map[uint32][]byte // content digests by signature algorithm
	algs       []uint32          // signature algorithms, in block order
	minSDK     int
	maxSDK     int
	rotation   bool // v3 proof-of-rotation attribute present
	problems   []string
	sigChecked []string
}

// parseSchemeBlock parses the value of a v2, v3 or v3.1 pair and checks
// each signer's signatures over its signed data. Content digests are
// returned for the caller to compare with the APK's actual content.
func parseSchemeBlock(v []byte, scheme string) ([]*schemeSigner, error) {
	r := &lpReader{b: v, what: scheme + " block"}
	list, err := r.prefixed("signers")
	if err != nil {
		return nil, err
	}
	var out []*schemeSigner
	for i := 0; !list.empty(); i++ {
		raw, err := list.prefixed(fmt.Sprintf("signer #%d", i+1))
		if err != nil {
			return nil, err
		}
		s, err := parseSchemeSigner(raw, scheme == "v2")
		if err != nil {
			return nil, fmt.Errorf("%s signer #%d: %w", scheme, i+1, err)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, sbErr("%s block has no signers", scheme)
	}
	return out, nil
}

const attrProofOfRotation = 0x3ba06f8c

func parseSchemeSigner(r *lpReader, v2 bool) (*schemeSigner, error) {
	s := &schemeSigner{digests: map[uint32][]byte{}}
	signedRaw, err := r.prefixed("signed data")
	if err != nil {
		return nil, err
	}
	signedBytes := signedRaw.b
	var outerMin, outerMax uint32
	if !v2 {
		if outerMin, err = r.u32(); err != nil {
			return nil, err
		}
		if outerMax, err = r.u32(); err != nil {
			return nil, err
		}
	}
	sigs, err := r.prefixed("signatures")
	if err != nil {
		return nil, err
	}
	pub, err := r.prefixed("public key")
	if err != nil {
		return nil, err
	}

	// Signed data: digests, certificates, [min, max,] attributes.
	sd := &lpReader{b: signedBytes, what: "signed data"}
	dl, err := sd.prefixed("digests")
	if err != nil {
		return nil, err
	}
	var digestAlgs []uint32
	for !dl.empty() {
		alg, val, err := dl.algValue("digest")
		if err != nil {
			return nil, err
		}
		s.digests[alg] = val
		digestAlgs = append(digestAlgs, alg)
	}
	cl, err := sd.prefixed("certificates")
	if err != nil {
		return nil, err
	}
	for !cl.empty() {
		c, err := cl.prefixed("certificate")
		if err != nil {
			return nil, err
		}
		s.certs = append(s.certs, c.b)
	}
	if len(s.certs) == 0 {
		return nil, sbErr("signer has no certificate")
	}
	if !v2 {
		mn, err := sd.u32()
		if err != nil {
			return nil, err
		}
		mx, err := sd.u32()
		if err != nil {
			return nil, err
		}
		s.minSDK, s.maxSDK = int(mn), int(mx)
		if mn != outerMin || mx != outerMax {
			s.problems = append(s.problems, fmt.Sprintf("SDK range in signed data (%d..%d) differs from the unsigned one (%d..%d)", mn, mx, outerMin, outerMax))
		}
	}
	attrs, err := sd.prefixed("additional attributes")
	if err != nil {
		return nil, err
	}
	for !attrs.empty() {
		at, err := attrs.prefixed("attribute")
		if err != nil {
			return nil, err
		}
		id, err := at.u32()
		if err != nil {
			return nil, err
		}
		if id == attrProofOfRotation {
			s.rotation = true
		}
	}

	// Signatures over the signed data with the signer's key.
	key, kerr := x509.ParsePKIXPublicKey(pub.b)
	if kerr != nil {
		s.problems = append(s.problems, "public key does not parse: "+kerr.Error())
	}
	if cert, err := x509.ParseCertificate(s.certs[0]); err == nil {
		if !bytes.Equal(cert.RawSubjectPublicKeyInfo, pub.b) {
			s.problems = append(s.problems, "public key does not match the first certificate")
		}
	}
	var sigAlgIDs []uint32
	for !sigs.empty() {
		alg, val, err := sigs.algValue("signature")
		if err != nil {
			return nil, err
		}
		sigAlgIDs = append(sigAlgIDs, alg)
		s.algs = append(s.algs, alg)
		a, known := sigAlgs[alg]
		if !known || key == nil {
			continue
		}
		if err := verifySig(key, alg, a.hash, signedBytes, val); err != nil {
			s.problems = append(s.problems, fmt.Sprintf("signature %s over signed data does not verify: %v", a.name, err))
		} else {
			s.sigChecked = append(s.sigChecked, a.name)
		}
	}
	if len(sigAlgIDs) == 0 {
		return nil, sbErr("signer has no signatures")
	}
	if !sameSet(sigAlgIDs, digestAlgs) {
		s.problems = append(s.problems, "signature algorithms and digest algorithms differ")
	}
	return s, nil
}

func sameSet(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[uint32]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

func verifySig(key any, alg uint32, h crypto.Hash, data, sig []byte) error {
	var sum []byte
	switch h {
	case crypto.SHA256:
		d := sha256.Sum256(data)
		sum = d[:]
	case crypto.SHA512:
		d := sha512.Sum512(data)
		sum = d[:]
	default:
		return errors.New("unsupported hash")
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		switch alg {
		case sigRSAPSSSHA256, sigRSAPSSSHA512:
			return rsa.VerifyPSS(k, h, sum, sig, &rsa.PSSOptions{SaltLength: h.Size(), Hash: h})
		case sigRSAPKCS1SHA256, sigRSAPKCS1SHA512, sigVerityRSASHA256:
			return rsa.VerifyPKCS1v15(k, h, sum, sig)
		}
	case *ecdsa.PublicKey:
		if alg == sigECDSASHA256 || alg == sigECDSASHA512 || alg == sigVerityECDSASHA256 {
			if !ecdsa.VerifyASN1(k, sum, sig) {
				return errors.New("ECDSA verification failed")
			}
			return nil
		}
	case *dsa.PublicKey:
		if alg == sigDSASHA256 || alg == sigVerityDSASHA256 {
			return verifyDSA(k, sum, sig)
		}
	case ed25519.PublicKey:
		return errors.New("Ed25519 is not an APK signature algorithm")
	}
	return fmt.Errorf("key type %T does not match algorithm %s", key, algName(alg))
}

const chunkSize = 1 << 20

// contentDigest computes the v2/v3 chunked digest ("sha256" or "sha512")
// over the three signed sections: entries up to the signing block, the
// central directory, and the end record with its central-directory
// offset pointing at the signing block. Chunks are hashed in parallel.
func (a *File) contentDigest(kind string, blockStart int64) ([]byte, error) {
	if a.cdOffset+a.cdSize != a.eocdOffset {
		return nil, errors.New("central directory is not immediately followed by the end record")
	}
	// Chunks are read with ReadAt, not mapped: a file truncated under a
	// mapping would kill the process with SIGBUS.
	eocd := bytes.Clone(a.eocd)
	binary.LittleEndian.PutUint32(eocd[16:], uint32(blockStart))
	type chunk struct {
		off int64
		n   int
		mem []byte // the chunk's bytes when in memory (the end record); else read at off
	}
	var chunks []chunk
	for _, s := range [][2]int64{{0, blockStart}, {a.cdOffset, a.cdSize}} {
		for o := int64(0); o < s[1]; o += chunkSize {
			n := min(s[1]-o, chunkSize)
			chunks = append(chunks, chunk{off: s[0] + o, n: int(n)})
		}
	}
	chunks = append(chunks, chunk{n: len(eocd), mem: eocd})
	newHash := sha256.New
	if kind == "sha512" {
		newHash = sha512.New
	}
	sums := make([][]byte, len(chunks))
	workers := runtime.GOMAXPROCS(0)
	if workers > len(chunks) {
		workers = len(chunks)
	}
	if workers > 8 {
		workers = 8
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var buf []byte
			h := newHash()
			var hdr [5]byte
			hdr[0] = 0xa5
			for i := w; i < len(chunks); i += workers {
				c := chunks[i]
				data := c.mem
				if data == nil {
					if buf == nil {
						buf = make([]byte, chunkSize)
					}
					data = buf[:c.n]
					if _, err := a.r.ReadAt(data, c.off); err != nil && err != io.EOF {
						errs[w] = err
						return
					}
				}
				binary.LittleEndian.PutUint32(hdr[1:], uint32(c.n))
				h.Reset()
				h.Write(hdr[:])
				h.Write(data)
				sums[i] = h.Sum(nil)
			}
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("read content: %w", err)
		}
	}
	var top hash.Hash = newHash()
	var hdr [5]byte
	hdr[0] = 0x5a
	binary.LittleEndian.PutUint32(hdr[1:], uint32(len(chunks)))
	top.Write(hdr[:])
	for _, s := range sums {
		top.Write(s)
	}
	return top.Sum(nil), nil
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// verifyDSA checks an ASN.1 DSA signature. The digest is cut to the
// length of the subgroup order first (FIPS 186), which crypto/dsa leaves
// to the caller: a SHA-256 digest over a 224-bit q would never verify.
func verifyDSA(k *dsa.PublicKey, sum, sig []byte) error {
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(sig, &rs); err != nil {
		return fmt.Errorf("DSA signature: %w", err)
	}
	if n := (k.Q.BitLen() + 7) / 8; len(sum) > n {
		sum = sum[:n]
	}
	if !dsa.Verify(k, sum, rs.R, rs.S) {
		return errors.New("DSA verification failed")
	}
	return nil
}
