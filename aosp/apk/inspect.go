package apk

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Check results.
const (
	CheckPass    = "pass"
	CheckFail    = "fail"
	CheckSkipped = "skipped"
)

// Check is one verification step and its outcome; a report lists every
// step that ran and every one that did not, so nobody reads more into it
// than was checked.
type Check struct {
	Name   string `json:"name"`
	Result string `json:"result"`
	Detail string `json:"detail,omitempty"`
}

// Signer is one signer of one scheme.
type Signer struct {
	Scheme     string    `json:"scheme"` // v1, v2, v3, v3.1
	CertSHA256 string    `json:"cert_sha256"`
	Subject    string    `json:"subject,omitempty"`
	Issuer     string    `json:"issuer,omitempty"`
	NotBefore  time.Time `json:"not_before,omitzero"`
	NotAfter   time.Time `json:"not_after,omitzero"`
	KeyAlg     string    `json:"key_algorithm,omitempty"`
	Algorithms []string  `json:"algorithms,omitempty"` // v2/v3 signature algorithms
	MinSDK     int       `json:"min_sdk,omitempty"`    // v3/v3.1
	MaxSDK     int       `json:"max_sdk,omitempty"`
	Rotation   bool      `json:"rotation,omitempty"` // v3 proof-of-rotation present
	ChainSHA   []string  `json:"chain_sha256,omitempty"`
	Verified   bool      `json:"verified"`
}

// Report is everything Inspect learned about an APK.
type Report struct {
	Path     string    `json:"path"`
	Size     int64     `json:"size"`
	Entries  int       `json:"entries"`
	Manifest *Manifest `json:"manifest,omitempty"`
	// Schemes lists the signature schemes present: v1, v2, v3, v3.1.
	Schemes []string `json:"schemes"`
	// Blocks names every pair of the APK Signing Block.
	Blocks  []string `json:"signing_block,omitempty"`
	Signers []Signer `json:"signers"`
	Checks  []Check  `json:"checks"`
	// Errors are problems that stopped part of the reading (e.g. a
	// manifest that does not decode); the rest of the report still holds.
	Errors []string `json:"errors,omitempty"`
}

// Options tune Inspect.
type Options struct {
	Limits Limits
	// SkipContentDigest skips hashing the whole APK for the v2/v3 content
	// digests (the slow part on large APKs); the report says it was skipped.
	SkipContentDigest bool
}

// Failed reports whether any check failed or any part could not be read.
func (r *Report) Failed() bool {
	if len(r.Errors) > 0 {
		return true
	}
	for _, c := range r.Checks {
		if c.Result == CheckFail {
			return true
		}
	}
	return false
}

// SignerCerts returns the distinct signer certificate SHA-256s over all
// schemes, sorted.
func (r *Report) SignerCerts() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range r.Signers {
		if !seen[s.CertSHA256] {
			seen[s.CertSHA256] = true
			out = append(out, s.CertSHA256)
		}
	}
	sort.Strings(out)
	return out
}

// HasScheme reports whether scheme is present.
func (r *Report) HasScheme(s string) bool {
	for _, x := range r.Schemes {
		if x == s {
			return true
		}
	}
	return false
}

func (r *Report) check(name, result, detail string) {
	r.Checks = append(r.Checks, Check{Name: name, Result: result, Detail: detail})
}

// Inspect opens path and reads the manifest and signatures. It returns an
// error only when the file is not a readable zip at all; problems inside
// (manifest, signatures) are in the report's Errors and Checks.
func Inspect(path string, opt Options) (*Report, error) {
	a, err := OpenLimits(path, opt.Limits)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	r := a.Inspect(opt)
	r.Path = path
	return r, nil
}

// Inspect reads the manifest and signatures of an open APK.
func (a *File) Inspect(opt Options) *Report {
	r := &Report{Size: a.size, Entries: len(a.zr.File), Schemes: []string{}, Signers: []Signer{}, Checks: []Check{}}
	m, err := a.Manifest()
	if err != nil {
		r.Errors = append(r.Errors, err.Error())
	} else {
		r.Manifest = m
	}
	blk, blkErr := a.SigningBlock()
	newer := false // a v2/v3/v3.1 block is present: Android ignores v1 then
	for _, id := range []uint32{BlockV2, BlockV3, BlockV31} {
		if _, ok := blk.Find(id); ok {
			newer = true
		}
	}
	// The v1 checks (inflating .SF and MANIFEST.MF) run while the block's
	// content digest hashes the file: on a large APK they overlap.
	v1 := &Report{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.inspectV1(v1, newer)
	}()
	a.inspectBlock(r, blk, blkErr, opt)
	wg.Wait()
	r.Schemes = append(v1.Schemes, r.Schemes...)
	r.Signers = append(r.Signers, v1.Signers...)
	r.Checks = append(r.Checks, v1.Checks...)
	r.Errors = append(r.Errors, v1.Errors...)
	if len(r.Schemes) == 0 {
		r.check("signed", CheckFail, "no v1 JAR signature and no APK Signing Block: the APK is unsigned")
	}
	return r
}

func (a *File) inspectBlock(r *Report, blk *SigningBlock, err error, opt Options) {
	if err != nil {
		r.Errors = append(r.Errors, err.Error())
		r.check("signing block", CheckFail, err.Error())
		return
	}
	if blk == nil {
		return
	}
	for _, p := range blk.Pairs {
		r.Blocks = append(r.Blocks, p.Name())
	}
	type want struct {
		scheme string
		signer int
		digest []byte
	}
	needs := map[string][]want{} // content digest kind -> expectations
	for _, sc := range []struct {
		id   uint32
		name string
	}{{BlockV2, "v2"}, {BlockV3, "v3"}, {BlockV31, "v3.1"}} {
		v, ok := blk.Find(sc.id)
		if !ok {
			continue
		}
		r.Schemes = append(r.Schemes, sc.name)
		signers, err := parseSchemeBlock(v, sc.name)
		if err != nil {
			r.Errors = append(r.Errors, err.Error())
			r.check(sc.name+" block", CheckFail, err.Error())
			continue
		}
		for i, s := range signers {
			sg := signerFromCert(sc.name, s.certs[0])
			for _, c := range s.certs[1:] {
				sg.ChainSHA = append(sg.ChainSHA, hexSHA256(c))
			}
			for _, alg := range s.algs {
				sg.Algorithms = append(sg.Algorithms, algName(alg))
			}
			sg.MinSDK, sg.MaxSDK, sg.Rotation = s.minSDK, s.maxSDK, s.rotation
			label := fmt.Sprintf("%s signer #%d", sc.name, i+1)
			if len(s.problems) > 0 {
				r.check(label+" signature", CheckFail, strings.Join(s.problems, "; "))
			} else if len(s.sigChecked) == 0 {
				r.check(label+" signature", CheckSkipped, "no supported signature algorithm")
			} else {
				r.check(label+" signature", CheckPass, strings.Join(s.sigChecked, ", ")+" over signed data; key matches certificate")
				sg.Verified = true
			}
			// Compare one digest of each content kind present; verity
			// digests (a Merkle tree root) are not recomputed.
			kinds := map[string]bool{}
			for alg, d := range s.digests {
				k := sigAlgs[alg].content
				if k == "" || kinds[k] {
					continue
				}
				kinds[k] = true
				if k == "verity" {
					r.check(label+" verity digest", CheckSkipped, "verity (Merkle tree) content digests are not recomputed")
					continue
				}
				needs[k] = append(needs[k], want{sc.name, len(r.Signers), d})
			}
			r.Signers = append(r.Signers, sg)
		}
	}
	kinds := make([]string, 0, len(needs))
	for k := range needs {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		name := "content digest (" + k + ", 1 MiB chunks) of v2/v3 signers"
		if opt.SkipContentDigest {
			r.check(name, CheckSkipped, "skipped on request")
			continue
		}
		got, err := a.contentDigest(k, blk.Offset)
		if err != nil {
			r.check(name, CheckFail, err.Error())
			continue
		}
		var bad []string
		for _, w := range needs[k] {
			if !bytes.Equal(got, w.digest) {
				bad = append(bad, fmt.Sprintf("%s signer %s", w.scheme, short(r.Signers[w.signer].CertSHA256)))
				r.Signers[w.signer].Verified = false
			}
		}
		if len(bad) > 0 {
			r.check(name, CheckFail, "APK content does not match the digest signed by "+strings.Join(bad, ", ")+": the signed region was modified after signing")
		} else {
			r.check(name, CheckPass, fmt.Sprintf("matches %d signer digest(s)", len(needs[k])))
		}
	}
}

func (a *File) inspectV1(r *Report, newer bool) {
	files := a.metaSignatureFiles()
	if len(files) == 0 {
		return
	}
	r.Schemes = append(r.Schemes, "v1")
	for _, f := range files {
		s := a.readV1(f)
		label := "v1 " + f
		if s.signer != nil {
			sg := signerFromCert("v1", s.signer)
			sg.Verified = len(s.problems) == 0
			r.Signers = append(r.Signers, sg)
		}
		if len(s.problems) > 0 {
			r.check(label, CheckFail, strings.Join(s.problems, "; "))
		} else {
			r.check(label, CheckPass, strings.Join(s.checks, "; "))
		}
	}
	// Android verifies v1 only when no v2/v3 signature is present; so do
	// we, since recomputing every entry's digest means inflating the
	// whole APK.
	if newer {
		r.check("v1 entry digests", CheckSkipped, "not recomputed: v2/v3 present, which Android verifies instead of v1")
		return
	}
	n, err := a.checkV1Entries()
	if err != nil {
		r.check("v1 entry digests", CheckFail, err.Error())
		for i := range r.Signers {
			if r.Signers[i].Scheme == "v1" {
				r.Signers[i].Verified = false
			}
		}
		return
	}
	r.check("v1 entry digests", CheckPass, fmt.Sprintf("%d entries match MANIFEST.MF; no entry unlisted", n))
}

func signerFromCert(scheme string, der []byte) Signer {
	s := Signer{Scheme: scheme, CertSHA256: hexSHA256(der)}
	if c, err := x509.ParseCertificate(der); err == nil {
		s.Subject = c.Subject.String()
		s.Issuer = c.Issuer.String()
		s.NotBefore, s.NotAfter = c.NotBefore.UTC(), c.NotAfter.UTC()
		s.KeyAlg = c.PublicKeyAlgorithm.String()
	} else {
		s.Subject = "(certificate does not parse: " + err.Error() + ")"
	}
	return s
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
