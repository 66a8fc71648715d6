package protocol

import "time"

// PreinstallParams are preinstall.status's params, both optional.
type PreinstallParams struct {
	Package  string `json:"package,omitempty"`
	Severity string `json:"severity,omitempty"` // ok | warn | fail
}

// PreinstallStatus is preinstall.status's result: the last scan.
type PreinstallStatus struct {
	State      string             `json:"state"` // scanning until the first scan ends, then done
	ScannedAt  time.Time          `json:"scanned_at,omitzero"`
	DurationMS int64              `json:"duration_ms"`
	Scans      uint64             `json:"scans"`
	Roots      []string           `json:"roots"`
	Registry   PreinstallRegistry `json:"registry"`
	Summary    PreinstallSummary  `json:"summary"`
	Checks     []string           `json:"checks"` // what the audit verifies, and what it does not
	Findings   []Finding          `json:"findings"`
}

// PreinstallRegistry describes the registry in force.
type PreinstallRegistry struct {
	Records int      `json:"records"`
	Files   []string `json:"files"`
}

// PreinstallSummary counts the last scan's outcome.
type PreinstallSummary struct {
	APKs     int `json:"apks"`
	Passed   int `json:"passed"`
	Failed   int `json:"failed"`
	Warnings int `json:"warnings"`
	Fails    int `json:"fail_findings"`
}

// Finding is one problem (or the one pass) the audit found for an app.
type Finding struct {
	Package  string `json:"package"`
	APK      string `json:"apk,omitempty"`
	File     string `json:"registry_file,omitempty"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"` // ok | warn | fail
	Problem  string `json:"problem"`
	Fix      string `json:"fix,omitempty"`
}
