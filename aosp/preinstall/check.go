package preinstall

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"permd/aosp/apk"
)

// Severities of a finding.
const (
	SevFail = "fail" // the app must not be preinstalled as is
	SevWarn = "warn" // needs a human look; does not fail the build
	SevOK   = "ok"   // the app passed every rule
)

// Rules, stable names for scripts and the ledger.
const (
	RuleRegistryFile    = "registry.file"
	RuleAPK             = "apk.readable"
	RuleManifest        = "apk.manifest"
	RuleSigned          = "apk.signature"
	RuleRegistered      = "registered"
	RuleSigner          = "signer"
	RuleOperatorName    = "operator.legal_name"
	RuleOperatorType    = "operator.type"
	RuleUSCC            = "operator.uscc"
	RuleOrgCode         = "operator.org_code"
	RuleIDReference     = "operator.id_reference"
	RulePhone           = "operator.phone"
	RuleEmail           = "operator.email"
	RuleAddress         = "operator.address"
	RuleVerification    = "verification"
	RulePIRulesURL      = "pi_rules.url"
	RulePIRulesCopy     = "pi_rules.copy"
	RuleAccountDeletion = "account_deletion"
	RulePIDeletion      = "pi_deletion"
	RuleDates           = "dates"
	RuleReview          = "review_by"
	RuleAll             = "all"
)

// Finding is one result of the check: which package and APK, which rule,
// what is wrong and how to fix it.
type Finding struct {
	Package  string `json:"package"`
	APK      string `json:"apk,omitempty"`
	File     string `json:"registry_file,omitempty"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Problem  string `json:"problem"`
	Fix      string `json:"fix,omitempty"`
}

// String is the one-line form the checker prints.
func (f Finding) String() string {
	pkg := f.Package
	if pkg == "" {
		pkg = "-"
	}
	where := ""
	if f.APK != "" {
		where = " (" + f.APK + ")"
	} else if f.File != "" {
		where = " (registry " + f.File + ")"
	}
	s := fmt.Sprintf("%s %s%s [%s]: %s", strings.ToUpper(f.Severity), pkg, where, f.Rule, f.Problem)
	if f.Fix != "" {
		s += "; fix: " + f.Fix
	}
	return s
}

// Checker checks APKs against a registry.
type Checker struct {
	Registry *Registry
	// Now is the date the review deadline is checked against.
	Now time.Time
	// Root, when set, is the image root under which "pi_rules.copy" image
	// paths must exist; empty means image paths are not checked (only
	// "apk:" copies are) and a warning says so.
	Root string
	// ReviewWarn warns this long before review_by; default 30 days.
	ReviewWarn time.Duration
	// Inspect tunes APK reading.
	Inspect apk.Options
	// Workers is how many APKs are checked at once; 0 means GOMAXPROCS.
	Workers int
	// Progress, when set, is called after each APK is checked with how
	// many are done of how many; calls may come from several goroutines
	// but never at once.
	Progress func(done, total int)
}

const dateLayout = "2006-01-02"

var shaRe = regexp.MustCompile(`^[0-9a-f]{64}$`)

// CheckAPK reads one APK and checks it. It always returns at least one
// finding: the problems, or one "ok".
func (c *Checker) CheckAPK(path string) ([]Finding, *apk.Report) {
	a, err := apk.OpenLimits(path, c.Inspect.Limits)
	if err != nil {
		return []Finding{{APK: path, Rule: RuleAPK, Severity: SevFail, Problem: "cannot read APK: " + err.Error(), Fix: "rebuild the APK; it must be a valid zip with AndroidManifest.xml"}}, nil
	}
	defer a.Close()
	rep := a.Inspect(c.Inspect)
	rep.Path = path
	return c.CheckReport(rep, a.HasEntry), rep
}

// CheckReport checks an inspected APK. hasEntry answers whether the APK
// holds an entry (for "apk:" copies of the PI rules); nil means unknown.
func (c *Checker) CheckReport(rep *apk.Report, hasEntry func(string) bool) []Finding {
	var out []Finding
	add := func(pkg, rule, sev, problem, fix string) {
		out = append(out, Finding{Package: pkg, APK: rep.Path, Rule: rule, Severity: sev, Problem: problem, Fix: fix})
	}
	if rep.Manifest == nil {
		add("", RuleManifest, SevFail, "manifest unreadable: "+strings.Join(rep.Errors, "; "), "rebuild the APK with a valid AndroidManifest.xml")
		return out
	}
	pkg := rep.Manifest.Package
	for _, e := range rep.Errors {
		add(pkg, RuleSigned, SevFail, e, "re-sign the APK with apksigner")
	}
	for _, ch := range rep.Checks {
		if ch.Result == apk.CheckFail {
			add(pkg, RuleSigned, SevFail, ch.Name+": "+ch.Detail, "re-sign the APK with apksigner from the release build, and do not modify it after signing")
		}
	}
	rec, ok := c.Registry.Records[pkg]
	if !ok {
		add(pkg, RuleRegistered, SevFail, "package is not in the preinstall registry", fmt.Sprintf("register the operator: preinstall-check init %s > %s.json, fill in and verify every field, add it to the registry", filepath.Base(rep.Path), pkg))
		return out
	}
	allowed := map[string]bool{}
	for _, s := range rec.SignerSHA256 {
		allowed[NormalizeSHA256(s)] = true
	}
	var bad []string
	for _, s := range rep.SignerCerts() {
		if !allowed[s] {
			bad = append(bad, s)
		}
	}
	if len(bad) > 0 {
		add(pkg, RuleSigner, SevFail, fmt.Sprintf("signed by certificate(s) not in the registry: %s", strings.Join(bad, ", ")), "sign with the registered key, or (after verifying the change with the operator) add the SHA-256 to signer_sha256 in "+c.Registry.Files[pkg])
	}
	for _, f := range c.CheckRecord(rec) {
		f.APK = rep.Path
		out = append(out, f)
	}
	if cp := strings.TrimSpace(rec.PIRules.Copy); strings.HasPrefix(cp, "apk:") && hasEntry != nil {
		entry := strings.TrimPrefix(cp, "apk:")
		if !hasEntry(entry) {
			add(pkg, RulePIRulesCopy, SevFail, fmt.Sprintf("pi_rules.copy names %s but the APK has no entry %q", cp, entry), "ship the PI rules in the APK at that path, or point pi_rules.copy at the copy in the image")
		}
	}
	if !hasFail(out) && !hasWarn(out) {
		add(pkg, RuleAll, SevOK, "registered, signer matches, record complete", "")
	}
	return out
}

func hasFail(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == SevFail {
			return true
		}
	}
	return false
}

func hasWarn(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == SevWarn {
			return true
		}
	}
	return false
}

// CheckRecord validates a record on its own (no APK): identity, contact,
// verification, PI rules, deletion paths, dates.
func (c *Checker) CheckRecord(rec *Record) []Finding {
	var out []Finding
	file := c.Registry.Files[rec.Package]
	add := func(rule, sev, problem, fix string) {
		out = append(out, Finding{Package: rec.Package, File: file, Rule: rule, Severity: sev, Problem: problem, Fix: fix})
	}
	blank := func(s string) bool { return strings.TrimSpace(s) == "" }
	if len(rec.SignerSHA256) == 0 {
		add(RuleSigner, SevFail, "signer_sha256 is empty", "list the SHA-256 of each signer certificate (preinstall-check inspect shows them)")
	}
	for i, s := range rec.SignerSHA256 {
		if !shaRe.MatchString(NormalizeSHA256(s)) {
			add(RuleSigner, SevFail, fmt.Sprintf("signer_sha256[%d] %q is not 64 hex digits", i, s), "copy the certificate SHA-256 from preinstall-check inspect")
		}
	}
	op := rec.Operator
	if blank(op.LegalName) {
		add(RuleOperatorName, SevFail, "operator.legal_name is empty", "enter the operator's registered legal name as on its business licence or ID")
	}
	switch op.Type {
	case "enterprise":
		if blank(op.USCC) {
			add(RuleUSCC, SevFail, "operator.uscc is empty for an enterprise", "enter the 18-character Unified Social Credit Code from the business licence")
		} else if err := ValidateUSCC(op.USCC); err != nil {
			add(RuleUSCC, SevFail, fmt.Sprintf("operator.uscc %q is invalid: %v", op.USCC, err), "copy the code again from the business licence and check it in the national enterprise credit system")
		} else if err := CheckOrgCode(op.USCC); err != nil {
			add(RuleOrgCode, SevWarn, err.Error(), "confirm the code with the operator; positions 9-17 should be its GB 11714 organization code")
		}
	case "individual", "other":
		if blank(op.IDReference) && blank(op.USCC) {
			add(RuleIDReference, SevFail, "operator.id_reference is empty for a non-enterprise operator", "record a reference to the identity check kept on file (not the ID number itself)")
		}
		if !blank(op.USCC) {
			if err := ValidateUSCC(op.USCC); err != nil {
				add(RuleUSCC, SevFail, fmt.Sprintf("operator.uscc %q is invalid: %v", op.USCC, err), "copy the code again from the registration certificate")
			}
		}
	case "":
		add(RuleOperatorType, SevFail, "operator.type is empty", `set "enterprise", "individual" or "other"`)
	default:
		add(RuleOperatorType, SevFail, fmt.Sprintf("operator.type %q is unknown", op.Type), `use "enterprise", "individual" or "other"`)
	}
	if blank(op.Phone) {
		add(RulePhone, SevFail, "operator.phone is empty", "enter a phone number where the operator can be reached")
	} else if err := CheckPhone(op.Phone); err != nil {
		add(RulePhone, SevFail, "operator.phone "+err.Error(), "write it as 13812345678, 010-12345678, 400-123-4567 or +44 20 7946 0000")
	}
	if blank(op.Email) {
		add(RuleEmail, SevFail, "operator.email is empty", "enter a contact e-mail address")
	} else if err := CheckEmail(op.Email); err != nil {
		add(RuleEmail, SevFail, "operator.email "+err.Error(), "write a bare address such as privacy@example.com")
	}
	if blank(op.Address) {
		add(RuleAddress, SevFail, "operator.address is empty", "enter the operator's registered address")
	}
	v := rec.Verification
	var missing []string
	for _, f := range []struct{ n, v string }{{"by", v.By}, {"date", v.Date}, {"method", v.Method}, {"evidence", v.Evidence}} {
		if blank(f.v) {
			missing = append(missing, "verification."+f.n)
		}
	}
	if len(missing) > 0 {
		add(RuleVerification, SevFail, "identity not recorded as verified: "+strings.Join(missing, ", ")+" empty", "verify the operator's identity and contact, then record who did it, when, how, and where the evidence is kept")
	}
	if !blank(v.Date) {
		if d, err := time.Parse(dateLayout, v.Date); err != nil {
			add(RuleVerification, SevFail, fmt.Sprintf("verification.date %q is not YYYY-MM-DD", v.Date), "write the date as 2026-01-31")
		} else if !c.Now.IsZero() && d.After(c.Now) {
			add(RuleVerification, SevFail, fmt.Sprintf("verification.date %s is in the future", v.Date), "record the date the verification was actually done")
		}
	}
	if blank(rec.PIRules.URL) {
		add(RulePIRulesURL, SevFail, "pi_rules.url is empty: the app has no published personal-information rules", "publish the PI collection and use rules and enter their URL")
	} else if secure, err := CheckURL(rec.PIRules.URL); err != nil {
		add(RulePIRulesURL, SevFail, "pi_rules.url "+err.Error(), "enter the public https URL of the PI rules")
	} else if !secure {
		add(RulePIRulesURL, SevWarn, fmt.Sprintf("pi_rules.url %q is not https", rec.PIRules.URL), "serve the PI rules over https")
	}
	cp := strings.TrimSpace(rec.PIRules.Copy)
	switch {
	case cp == "":
		add(RulePIRulesCopy, SevFail, "pi_rules.copy is empty: no copy of the PI rules ships on the device", `ship a copy and name it: "apk:assets/privacy.html" or "/system/etc/pi/<package>.html"`)
	case strings.HasPrefix(cp, "apk:"):
		if strings.TrimPrefix(cp, "apk:") == "" {
			add(RulePIRulesCopy, SevFail, "pi_rules.copy \"apk:\" names no entry", `write "apk:assets/privacy.html"`)
		}
	case strings.HasPrefix(cp, "/"):
		if c.Root == "" {
			add(RulePIRulesCopy, SevWarn, fmt.Sprintf("pi_rules.copy %s is an image path and no image root was given, so it was not checked", cp), "pass --root with the product out directory to check it")
		} else if st, err := os.Stat(filepath.Join(c.Root, filepath.FromSlash(cp))); err != nil || !st.Mode().IsRegular() {
			add(RulePIRulesCopy, SevFail, fmt.Sprintf("pi_rules.copy %s is not a file in the image", cp), "install the PI rules file at that path (a prebuilt_etc module), or fix the path")
		}
	default:
		add(RulePIRulesCopy, SevFail, fmt.Sprintf("pi_rules.copy %q is neither apk:<entry> nor an absolute image path", cp), `write "apk:assets/privacy.html" or "/system/etc/pi/<package>.html"`)
	}
	ad := rec.AccountDeletion
	switch {
	case ad.NoAccounts && (blank(ad.InApp) && blank(ad.URL)):
		if blank(ad.Reason) {
			add(RuleAccountDeletion, SevFail, "account_deletion.no_accounts is set without a reason", "say how it was checked that the app has no user accounts")
		} else {
			add(RuleAccountDeletion, SevWarn, "app declares it has no user accounts: "+ad.Reason, "confirm on the device that no sign-in exists")
		}
	case blank(ad.InApp) && blank(ad.URL):
		add(RuleAccountDeletion, SevFail, "no account deletion function given (account_deletion.in_app and .url empty)", "record where in the app a user deletes the account, and/or the URL that does it")
	case !blank(ad.URL):
		if _, err := CheckURL(ad.URL); err != nil {
			add(RuleAccountDeletion, SevFail, "account_deletion.url "+err.Error(), "enter the https URL where a user deletes the account")
		}
	}
	pd := rec.PIDeletion
	if blank(pd.InApp) && blank(pd.URL) && blank(pd.Email) {
		add(RulePIDeletion, SevFail, "no way to delete personal information given (pi_deletion.in_app, .url and .email empty)", "record where in the app, or at which URL or address, a user has PI deleted")
	}
	if !blank(pd.URL) {
		if _, err := CheckURL(pd.URL); err != nil {
			add(RulePIDeletion, SevFail, "pi_deletion.url "+err.Error(), "enter the https URL of the PI deletion request")
		}
	}
	if !blank(pd.Email) {
		if err := CheckEmail(pd.Email); err != nil {
			add(RulePIDeletion, SevFail, "pi_deletion.email "+err.Error(), "write a bare address such as privacy@example.com")
		}
	}
	reg, regErr := time.Parse(dateLayout, rec.Registered)
	if blank(rec.Registered) {
		add(RuleDates, SevFail, "registered is empty", "enter the registration date as YYYY-MM-DD")
	} else if regErr != nil {
		add(RuleDates, SevFail, fmt.Sprintf("registered %q is not YYYY-MM-DD", rec.Registered), "write the date as 2026-01-31")
	} else if !c.Now.IsZero() && reg.After(c.Now) {
		add(RuleDates, SevFail, fmt.Sprintf("registered %s is in the future", rec.Registered), "enter the date the app was registered")
	}
	rev, revErr := time.Parse(dateLayout, rec.ReviewBy)
	switch {
	case blank(rec.ReviewBy):
		add(RuleReview, SevFail, "review_by is empty", "set the date by which the record must be reviewed again (at most a year ahead)")
	case revErr != nil:
		add(RuleReview, SevFail, fmt.Sprintf("review_by %q is not YYYY-MM-DD", rec.ReviewBy), "write the date as 2027-01-31")
	case regErr == nil && rev.Before(reg):
		add(RuleReview, SevFail, fmt.Sprintf("review_by %s is before registered %s", rec.ReviewBy, rec.Registered), "fix the dates")
	case !c.Now.IsZero() && c.Now.After(rev.Add(24*time.Hour-time.Nanosecond)):
		add(RuleReview, SevFail, fmt.Sprintf("review date %s has passed", rec.ReviewBy), "re-verify the operator's identity, contact and PI rules, then move review_by forward")
	case !c.Now.IsZero() && c.Now.Add(c.reviewWarn()).After(rev):
		add(RuleReview, SevWarn, fmt.Sprintf("review due by %s", rec.ReviewBy), "schedule the review: re-verify and move review_by forward")
	}
	return out
}

func (c *Checker) reviewWarn() time.Duration {
	if c.ReviewWarn > 0 {
		return c.ReviewWarn
	}
	return 30 * 24 * time.Hour
}

// FindAPKs lists *.apk files under each path (a file is taken as is; a
// directory is walked), sorted, without duplicates.
func FindAPKs(paths ...string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(strings.ToLower(d.Name()), ".apk") && d.Type().IsRegular() && !seen[path] {
				seen[path] = true
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

// Summary counts findings.
type Summary struct {
	APKs     int `json:"apks"`
	Passed   int `json:"passed"`
	Failed   int `json:"failed"`
	Warnings int `json:"warnings"`
	Fails    int `json:"fail_findings"`
}

// Result is the check of a set of APKs.
type Result struct {
	Findings []Finding `json:"findings"`
	Summary  Summary   `json:"summary"`
}

// CheckPaths checks every APK found under paths, plus the registry's
// file problems.
func (c *Checker) CheckPaths(paths ...string) (*Result, error) {
	return c.CheckPathsContext(context.Background(), paths...)
}

// CheckPathsContext is CheckPaths that stops starting new APKs once ctx
// ends, returning ctx's error.
func (c *Checker) CheckPathsContext(ctx context.Context, paths ...string) (*Result, error) {
	apks, err := FindAPKs(paths...)
	if err != nil {
		return nil, err
	}
	res := &Result{Findings: append([]Finding{}, c.Registry.Problems...)}
	res.Summary.APKs = len(apks)
	// Check in parallel, report in path order.
	per := make([][]Finding, len(apks))
	workers := c.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	var pmu sync.Mutex
	done := 0
	for w := 0; w < min(workers, len(apks)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				per[i], _ = c.CheckAPK(apks[i])
				if c.Progress != nil {
					pmu.Lock()
					done++
					c.Progress(done, len(apks))
					pmu.Unlock()
				}
			}
		}()
	}
feed:
	for i := range apks {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, fs := range per {
		res.Add(fs)
	}
	res.Summary.Fails += len(c.Registry.Problems)
	return res, nil
}

// Add counts one APK's findings into the result.
func (r *Result) Add(fs []Finding) {
	r.Findings = append(r.Findings, fs...)
	failed := false
	for _, f := range fs {
		switch f.Severity {
		case SevFail:
			failed = true
			r.Summary.Fails++
		case SevWarn:
			r.Summary.Warnings++
		}
	}
	if failed {
		r.Summary.Failed++
	} else {
		r.Summary.Passed++
	}
}

// OK reports whether nothing failed.
func (r *Result) OK() bool { return r.Summary.Fails == 0 }
