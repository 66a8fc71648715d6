package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

func init() {
	register(command{name: "preinstall", summary: "preinstalled apps checked against the Art. 29 registry: permctl preinstall [--package P] [--severity ok|warn|fail]", run: runPreinstall})
}

type preinstallFinding struct {
	Package  string `json:"package"`
	APK      string `json:"apk"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Problem  string `json:"problem"`
	Fix      string `json:"fix"`
}

type preinstallStatus struct {
	State      string    `json:"state"`
	ScannedAt  time.Time `json:"scanned_at"`
	DurationMS int64     `json:"duration_ms"`
	Scans      uint64    `json:"scans"`
	Roots      []string  `json:"roots"`
	Registry   struct {
		Records int      `json:"records"`
		Files   []string `json:"files"`
	} `json:"registry"`
	Summary struct {
		APKs     int `json:"apks"`
		Passed   int `json:"passed"`
		Failed   int `json:"failed"`
		Warnings int `json:"warnings"`
	} `json:"summary"`
	Checks   []string            `json:"checks"`
	Findings []preinstallFinding `json:"findings"`
}

func runPreinstall(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "preinstall", "[--package PKG] [--severity ok|warn|fail]")
	pkg := fs.String("package", "", "only this package's findings")
	sev := fs.String("severity", "", "only findings of this severity (ok, warn, fail)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("preinstall: unexpected argument %q", fs.Arg(0))
	}
	params := map[string]string{}
	if *pkg != "" {
		params["package"] = *pkg
	}
	if *sev != "" {
		params["severity"] = *sev
	}
	var st preinstallStatus
	if e.json {
		var raw json.RawMessage
		if err := e.call(ctx, "preinstall.status", params, &raw); err != nil {
			return err
		}
		return e.printObject(raw)
	}
	if err := e.call(ctx, "preinstall.status", params, &st); err != nil {
		return err
	}
	if st.State != "done" {
		fmt.Fprintln(e.stdout, e.msg("still_scan"))
		return nil
	}
	s := st.Summary
	fmt.Fprintln(e.stdout, e.msg("audit_at",
		st.ScannedAt.Local().Format(time.DateTime), st.DurationMS, st.Scans, s.APKs, s.Passed, s.Failed, s.Warnings))
	fmt.Fprintln(e.stdout, e.msg("registry", st.Registry.Records, strings.Join(st.Registry.Files, ", ")))
	fmt.Fprintln(e.stdout, e.msg("scanned", strings.Join(st.Roots, ", ")))
	if len(st.Findings) == 0 {
		fmt.Fprintln(e.stdout, e.msg("no findings"))
		return nil
	}
	tw := e.table().cutColumn(4)
	fmt.Fprintln(tw, e.heads("RESULT", "PACKAGE", "RULE", "PROBLEM", "FIX"))
	for _, f := range st.Findings {
		p := f.Package
		if p == "" {
			p = f.APK
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", strings.ToUpper(f.Severity), p, f.Rule, f.Problem, f.Fix)
	}
	return tw.Flush()
}
