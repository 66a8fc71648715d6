package apk

import (
	"archive/zip"
	"bytes"
	"crypto"
	"crypto/dsa" //nolint:staticcheck // DSA signers exist in old APKs; reading them is not choosing them
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // v1 JAR signatures still use SHA-1; reading them is not choosing them
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
)

// PKCS#7 SignedData as JAR signing writes it (RFC 2315).
type p7ContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,optional,tag:0"`
}

type p7SignedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue
	ContentInfo      asn1.RawValue
	Certificates     asn1.RawValue  `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue  `asn1:"optional,tag:1"`
	SignerInfos      []p7SignerInfo `asn1:"set"`
}

type p7IssuerSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type p7SignerInfo struct {
	Version         int
	SID             p7IssuerSerial
	DigestAlgorithm pkix.AlgorithmIdentifier
	AuthAttrs       asn1.RawValue `asn1:"optional,tag:0"`
	DigestEncAlg    pkix.AlgorithmIdentifier
	Signature       []byte
	UnauthAttrs     asn1.RawValue `asn1:"optional,tag:1"`
}

type p7Attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue `asn1:"set"`
}

var (
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSHA1          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// v1Signature is one META-INF signature block.
type v1Signature struct {
	file     string
	certs    [][]byte // DER of all certificates in the block
	signer   []byte   // DER of the signing certificate, when found
	checks   []string // what verified
	problems []string
}

// parsePKCS7Certs returns the certificates and signer infos of a DER
// PKCS#7 SignedData.
func parsePKCS7(der []byte) ([][]byte, []p7SignerInfo, error) {
	var ci p7ContentInfo
	rest, err := asn1.Unmarshal(der, &ci)
	if err != nil {
		return nil, nil, fmt.Errorf("PKCS#7 ContentInfo: %w", err)
	}
	if len(rest) != 0 {
		return nil, nil, errors.New("PKCS#7: trailing bytes after ContentInfo")
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, nil, fmt.Errorf("PKCS#7 content type %v, want signedData", ci.ContentType)
	}
	var sd p7SignedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, nil, fmt.Errorf("PKCS#7 SignedData: %w", err)
	}
	var certs [][]byte
	for b := sd.Certificates.Bytes; len(b) > 0; {
		var rv asn1.RawValue
		r, err := asn1.Unmarshal(b, &rv)
		if err != nil {
			return nil, nil, fmt.Errorf("PKCS#7 certificate #%d: %w", len(certs)+1, err)
		}
		certs = append(certs, rv.FullBytes)
		b = r
	}
	return certs, sd.SignerInfos, nil
}

func hashFor(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	switch {
	case oid.Equal(oidSHA1):
		return crypto.SHA1, true
	case oid.Equal(oidSHA256):
		return crypto.SHA256, true
	case oid.Equal(oidSHA384):
		return crypto.SHA384, true
	case oid.Equal(oidSHA512):
		return crypto.SHA512, true
	}
	return 0, false
}

func digest(h crypto.Hash, b []byte) []byte {
	switch h {
	case crypto.SHA1:
		s := sha1.Sum(b)
		return s[:]
	case crypto.SHA256:
		s := sha256.Sum256(b)
		return s[:]
	case crypto.SHA384:
		s := sha512.Sum384(b)
		return s[:]
	case crypto.SHA512:
		s := sha512.Sum512(b)
		return s[:]
	}
	return nil
}

// readV1 parses one META-INF/*.RSA|DSA|EC file, verifies its signature
// over the matching .SF file, and the .SF file's digest of MANIFEST.MF.
// Digests of individual entries listed in MANIFEST.MF are not checked.
func (a *File) readV1(name string) *v1Signature {
	s := &v1Signature{file: name}
	der, err := a.ReadEntry(name, a.lim.MaxMetaFile)
	if err != nil {
		s.problems = append(s.problems, err.Error())
		return s
	}
	certs, infos, err := parsePKCS7(der)
	if err != nil {
		s.problems = append(s.problems, name+": "+err.Error())
		return s
	}
	s.certs = certs
	if len(infos) == 0 {
		s.problems = append(s.problems, name+": no SignerInfo")
		return s
	}
	si := infos[0]
	var signer *x509.Certificate
	for _, c := range certs {
		cert, err := x509.ParseCertificate(c)
		if err != nil {
			continue
		}
		if bytes.Equal(cert.RawIssuer, si.SID.Issuer.FullBytes) && cert.SerialNumber.Cmp(si.SID.Serial) == 0 {
			signer, s.signer = cert, c
			break
		}
	}
	if signer == nil {
		if len(certs) > 0 {
			s.signer = certs[0]
		}
		s.problems = append(s.problems, name+": no certificate matches the SignerInfo issuer and serial")
		return s
	}
	sfName := name[:strings.LastIndex(name, ".")] + ".SF"
	sf, err := a.ReadEntry(sfName, a.lim.MaxMetaFile)
	if err != nil {
		s.problems = append(s.problems, "signature file: "+err.Error())
		return s
	}
	h, ok := hashFor(si.DigestAlgorithm.Algorithm)
	if !ok {
		s.problems = append(s.problems, fmt.Sprintf("%s: unsupported digest algorithm %v", name, si.DigestAlgorithm.Algorithm))
		return s
	}
	signed := sf
	if len(si.AuthAttrs.Bytes) > 0 {
		// With signed attributes the signature covers their DER as a SET,
		// and the messageDigest attribute covers the .SF file.
		md, err := messageDigestAttr(si.AuthAttrs.Bytes)
		if err != nil {
			s.problems = append(s.problems, name+": "+err.Error())
			return s
		}
		if !bytes.Equal(md, digest(h, sf)) {
			s.problems = append(s.problems, name+": messageDigest does not match "+sfName)
			return s
		}
		signed = append([]byte{0x31}, si.AuthAttrs.FullBytes[1:]...)
	}
	if err := verifyWithCert(signer, h, signed, si.Signature); err != nil {
		s.problems = append(s.problems, fmt.Sprintf("%s: signature over %s does not verify: %v", name, sfName, err))
		return s
	}
	s.checks = append(s.checks, "PKCS#7 signature over "+sfName)
	mf, err := a.ReadEntry("META-INF/MANIFEST.MF", a.lim.MaxMetaFile)
	if err != nil {
		s.problems = append(s.problems, "META-INF/MANIFEST.MF: "+err.Error())
		return s
	}
	if err := checkSFManifestDigest(sf, mf); err != nil {
		s.problems = append(s.problems, sfName+": "+err.Error())
		return s
	}
	s.checks = append(s.checks, sfName+" digest of MANIFEST.MF")
	return s
}

func messageDigestAttr(b []byte) ([]byte, error) {
	for len(b) > 0 {
		var at p7Attribute
		r, err := asn1.Unmarshal(b, &at)
		if err != nil {
			return nil, fmt.Errorf("signed attributes: %w", err)
		}
		b = r
		if at.Type.Equal(oidMessageDigest) {
			var md []byte
			if _, err := asn1.Unmarshal(at.Values.Bytes, &md); err != nil {
				return nil, fmt.Errorf("messageDigest: %w", err)
			}
			return md, nil
		}
	}
	return nil, errors.New("signed attributes have no messageDigest")
}

func verifyWithCert(cert *x509.Certificate, h crypto.Hash, data, sig []byte) error {
	sum := digest(h, data)
	switch k := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(k, h, sum, sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(k, sum, sig) {
			return errors.New("ECDSA verification failed")
		}
		return nil
	case *dsa.PublicKey:
		return verifyDSA(k, sum, sig)
	}
	return fmt.Errorf("unsupported key type %T", cert.PublicKey)
}

// checkSFManifestDigest checks the "<alg>-Digest-Manifest" header of a
// .SF file against MANIFEST.MF.
func checkSFManifestDigest(sf, mf []byte) error {
	head := string(sf)
	if i := strings.Index(head, "\r\n\r\n"); i >= 0 {
		head = head[:i]
	} else if i := strings.Index(head, "\n\n"); i >= 0 {
		head = head[:i]
	}
	algs := map[string]crypto.Hash{"SHA-256": crypto.SHA256, "SHA-512": crypto.SHA512, "SHA-384": crypto.SHA384, "SHA1": crypto.SHA1, "SHA-1": crypto.SHA1}
	for _, line := range strings.Split(head, "\n") {
		line = strings.TrimRight(line, "\r")
		k, v, ok := strings.Cut(line, ": ")
		if !ok || !strings.HasSuffix(k, "-Digest-Manifest") {
			continue
		}
		h, ok := algs[strings.TrimSuffix(k, "-Digest-Manifest")]
		if !ok {
			continue
		}
		want, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("%s is not base64", k)
		}
		if !bytes.Equal(want, digest(h, mf)) {
			return fmt.Errorf("%s does not match MANIFEST.MF", k)
		}
		return nil
	}
	return errors.New("no *-Digest-Manifest header")
}

// mfEntry is one per-entry section of MANIFEST.MF.
type mfEntry struct {
	hash   crypto.Hash
	digest []byte
}

// parseJarManifest reads the per-entry sections of MANIFEST.MF: Name
// (with 72-byte continuation lines) and the strongest *-Digest given.
func parseJarManifest(mf []byte) (map[string]mfEntry, error) {
	text := strings.ReplaceAll(string(mf), "\r\n", "\n")
	// Join continuation lines (a line starting with one space continues
	// the previous one).
	text = strings.ReplaceAll(text, "\n ", "")
	out := map[string]mfEntry{}
	rank := map[crypto.Hash]int{crypto.SHA1: 1, crypto.SHA256: 2, crypto.SHA384: 3, crypto.SHA512: 4}
	algs := map[string]crypto.Hash{"SHA-256": crypto.SHA256, "SHA-512": crypto.SHA512, "SHA-384": crypto.SHA384, "SHA1": crypto.SHA1, "SHA-1": crypto.SHA1}
	sections := strings.Split(text, "\n\n")
	for _, sec := range sections[1:] { // the first is the main section
		var name string
		var best mfEntry
		for _, line := range strings.Split(sec, "\n") {
			k, v, ok := strings.Cut(line, ": ")
			if !ok {
				continue
			}
			if k == "Name" {
				name = v
				continue
			}
			if h, ok := algs[strings.TrimSuffix(k, "-Digest")]; ok && strings.HasSuffix(k, "-Digest") && rank[h] > rank[best.hash] {
				d, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
				if err != nil {
					return nil, fmt.Errorf("MANIFEST.MF: %s of %q is not base64", k, name)
				}
				best = mfEntry{hash: h, digest: d}
			}
		}
		if name == "" {
			continue
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("MANIFEST.MF: %q listed twice", name)
		}
		if best.hash == 0 {
			return nil, fmt.Errorf("MANIFEST.MF: %q has no digest", name)
		}
		out[name] = best
	}
	return out, nil
}

// isV1SignatureFile reports whether an entry belongs to the JAR
// signature itself (and so is not listed in MANIFEST.MF).
func isV1SignatureFile(name string) bool {
	u := strings.ToUpper(name)
	if u == "META-INF/MANIFEST.MF" {
		return true
	}
	if !strings.HasPrefix(u, "META-INF/") || strings.Count(name, "/") != 1 {
		return false
	}
	for _, s := range []string{".SF", ".RSA", ".DSA", ".EC"} {
		if strings.HasSuffix(u, s) {
			return true
		}
	}
	return strings.HasPrefix(u, "META-INF/SIG-")
}

// checkV1Entries recomputes the digest of every entry listed in
// MANIFEST.MF and checks that every entry outside the signature files is
// listed, as Android does for APKs signed with v1 only. Entries are read
// under the same limits as the rest (a bomb is refused, not inflated).
func (a *File) checkV1Entries() (int, error) {
	mf, err := a.ReadEntry("META-INF/MANIFEST.MF", a.lim.MaxMetaFile)
	if err != nil {
		return 0, err
	}
	listed, err := parseJarManifest(mf)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, zf := range a.zr.File {
		if strings.HasSuffix(zf.Name, "/") || isV1SignatureFile(zf.Name) {
			continue
		}
		e, ok := listed[zf.Name]
		if !ok {
			return n, fmt.Errorf("entry %q is not in MANIFEST.MF (added after signing)", zf.Name)
		}
		h := e.hash.New()
		if err := a.hashEntry(zf, h); err != nil {
			return n, err
		}
		if !bytes.Equal(h.Sum(nil), e.digest) {
			return n, fmt.Errorf("entry %q does not match its MANIFEST.MF digest (modified after signing)", zf.Name)
		}
		delete(listed, zf.Name)
		n++
	}
	for name := range listed {
		return n, fmt.Errorf("MANIFEST.MF lists %q, which the APK does not hold (removed after signing)", name)
	}
	return n, nil
}

// hashEntry streams one entry into h under the entry limits.
func (a *File) hashEntry(zf *zip.File, h io.Writer) error {
	usize := zf.UncompressedSize64
	if zf.Method != zip.Store && usize > 1<<20 && usize/max64(zf.CompressedSize64, 1) > uint64(a.lim.MaxRatio) {
		return fmt.Errorf("%s: compression ratio %d:1 is over the limit %d:1 (zip bomb?)", zf.Name, usize/max64(zf.CompressedSize64, 1), a.lim.MaxRatio)
	}
	rc, err := zf.Open()
	if err != nil {
		return fmt.Errorf("%s: %w", zf.Name, err)
	}
	defer rc.Close()
	// archive/zip fails a read past the declared size, so the declared
	// size (checked above against the ratio) bounds the work.
	if _, err := io.Copy(h, rc); err != nil {
		return fmt.Errorf("%s: %w", zf.Name, err)
	}
	return nil
}
