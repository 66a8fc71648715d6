package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"permd/framework/protocol"
)

func init() {
	register(command{name: "preinstall", summary: "preinstalled apps checked against the Art. 29 registry: permctl preinstall [--package P] [--severity ok|warn|fail]", run: runPreinstall})
}

// preinstallStatus is preinstall.status's result.
type preinstallStatus = protocol.PreinstallStatus

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
	params := protocol.PreinstallParams{Package: *pkg, Severity: *sev}
	var st preinstallStatus
	if e.json {
		var raw json.RawMessage
		if err := e.call(ctx, protocol.MethodPreinstallStatus, params, &raw); err != nil {
			return err
		}
		return e.printObject(raw)
	}
	if err := e.call(ctx, protocol.MethodPreinstallStatus, params, &st); err != nil {
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
