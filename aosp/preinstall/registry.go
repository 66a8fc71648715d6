// Package preinstall is the vetting policy of CAC draft Art. 29 for apps
// an OEM preinstalls: a registry of one JSON record per app (operator
// identity and contact, how it was verified, personal-information rules,
// account and PI deletion, dates) and the check of APKs against it, which
// yields one finding per problem with the fix. It depends on the standard
// library and aosp/apk only, so Soong can build the checker as a host tool.
package preinstall

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// RecordVersion is the registry record format this package reads.
const RecordVersion = 1

// Record is one app's registry entry, kept in the OEM's source tree.
type Record struct {
	Version int    `json:"version"`
	Package string `json:"package"`
	// SignerSHA256 lists the allowed signer certificate SHA-256s (hex,
	// colons and case ignored). Every signer of the APK, in every scheme,
	// must be listed (include the old and new certificate of a rotation).
	SignerSHA256    []string        `json:"signer_sha256"`
	Operator        Operator        `json:"operator"`
	Verification    Verification    `json:"verification"`
	PIRules         PIRules         `json:"pi_rules"`
	AccountDeletion AccountDeletion `json:"account_deletion"`
	PIDeletion      PIDeletion      `json:"pi_deletion"`
	Registered      string          `json:"registered"` // YYYY-MM-DD
	ReviewBy        string          `json:"review_by"`  // YYYY-MM-DD
	Notes           string          `json:"notes,omitempty"`
}

// Operator is who runs the app.
type Operator struct {
	LegalName string `json:"legal_name"`
	// Type is "enterprise", "individual" or "other" (public institutions,
	// foundations, foreign entities: anything with another registry).
	Type string `json:"type"`
	// USCC is the Unified Social Credit Code; required for enterprises.
	USCC string `json:"uscc"`
	// IDReference points at the identity check of a non-enterprise
	// operator (a reference into the OEM's records, never the ID number).
	IDReference string `json:"id_reference"`
	Phone       string `json:"phone"`
	Email       string `json:"email"`
	Address     string `json:"address"`
}

// Verification says how the OEM verified the operator's identity.
type Verification struct {
	By       string `json:"by"`       // person or team
	Date     string `json:"date"`     // YYYY-MM-DD
	Method   string `json:"method"`   // e.g. "business licence checked against the national credit system"
	Evidence string `json:"evidence"` // reference to the kept evidence
}

// PIRules is where the app's personal-information rules are.
type PIRules struct {
	URL string `json:"url"`
	// Copy is the copy shipped on the device: "apk:<entry>" inside the
	// APK, or an absolute path in the image (e.g. /system/etc/pi/x.html).
	Copy string `json:"copy"`
}

// AccountDeletion is how a user deletes their account.
type AccountDeletion struct {
	InApp string `json:"in_app"` // where in the app, e.g. "Me > Settings > Account > Delete account"
	URL   string `json:"url"`
	// NoAccounts declares that the app has no user accounts; Reason says
	// how that was checked. Reported as a warning for review.
	NoAccounts bool   `json:"no_accounts,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// PIDeletion is how a user gets their personal information deleted.
type PIDeletion struct {
	InApp string `json:"in_app"`
	URL   string `json:"url"`
	Email string `json:"email"`
}

// Registry is the set of records, by package.
type Registry struct {
	Records map[string]*Record
	Files   map[string]string // package -> file it came from
	// Problems are files that could not be used; each is a finding.
	Problems []Finding
}

// maxRecordFile bounds one registry file.
const maxRecordFile = 1 << 20

// LoadDir reads every *.json file directly in dir. A file that does not
// decode is a problem (a finding), not an error: the other records still
// count. The error is for a dir that cannot be read.
func LoadDir(dir string) (*Registry, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	files := map[string][]byte{}
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("registry: %w", err)
		}
		b, err := io.ReadAll(io.LimitReader(f, maxRecordFile+1))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("registry: %s: %w", e.Name(), err)
		}
		files[e.Name()] = b
	}
	return Load(files), nil
}

// Load builds a registry from file contents by name.
func Load(files map[string][]byte) *Registry {
	r := &Registry{Records: map[string]*Record{}, Files: map[string]string{}}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		b := files[name]
		if len(b) > maxRecordFile {
			r.fileProblem(name, fmt.Sprintf("file is over %d bytes", maxRecordFile), "keep one app per file")
			continue
		}
		rec, err := DecodeRecord(b)
		if err != nil {
			r.fileProblem(name, err.Error(), "fix the JSON; see docs/preinstall.md for the record format")
			continue
		}
		if prev, dup := r.Files[rec.Package]; dup {
			r.fileProblem(name, fmt.Sprintf("package %s is also registered in %s", rec.Package, prev), "keep one record per package")
			continue
		}
		r.Records[rec.Package] = rec
		r.Files[rec.Package] = name
	}
	return r
}

func (r *Registry) fileProblem(file, problem, fix string) {
	r.Problems = append(r.Problems, Finding{Package: "", File: file, Rule: RuleRegistryFile, Severity: SevFail, Problem: problem, Fix: fix})
}

// DecodeRecord decodes one record strictly: unknown fields, a missing
// package or an unknown version are errors that name the field.
func DecodeRecord(b []byte) (*Record, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var rec Record
	if err := dec.Decode(&rec); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return nil, fmt.Errorf("field %s: want %s, got JSON %s", te.Field, te.Type, te.Value)
		case errors.As(err, &se):
			return nil, fmt.Errorf("JSON syntax error at byte %d: %v", se.Offset, err)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return nil, fmt.Errorf("unknown field %s (misspelt?)", strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return nil, fmt.Errorf("not a registry record: %v", err)
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value: keep one record per file")
	}
	if rec.Version != RecordVersion {
		return nil, fmt.Errorf("field version: %d is not supported (this checker reads version %d)", rec.Version, RecordVersion)
	}
	if strings.TrimSpace(rec.Package) == "" {
		return nil, errors.New("field package: missing")
	}
	return &rec, nil
}

// NormalizeSHA256 lowercases a certificate digest and drops colons and
// spaces, so "AB:CD:..." as keytool prints it matches.
func NormalizeSHA256(s string) string {
	return strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(strings.TrimSpace(s)))
}
