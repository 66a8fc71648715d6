//go:build !android

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"permd/aosp/privacy"
)

func init() {
	register(command{name: "report", summary: "a self-contained HTML report: report --html FILE [--db FILE] [--since 7d] [--package P]", run: runReport})
}

func runReport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "report", "--html FILE [--db FILE] [--since 7d] [--package P]")
	out := fs.String("html", "", "write the report to this file (required)")
	db := fs.String("db", "", "read this database file (e.g. pulled with adb pull) instead of asking permd")
	sinceFlag := fs.String("since", "7d", "window: a duration back from now (24h, 7d) or a date")
	pkg := fs.String("package", "", "include only this app's page")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("report: --html FILE is required")
	}
	if fs.NArg() > 0 {
		return usagef("report: unexpected argument %q", fs.Arg(0))
	}
	now := time.Now()
	from, err := parseWhen(*sinceFlag, now, false, false)
	if err != nil {
		return usagef("report: --since: %v", err)
	}
	since := from.t.UnixMilli()
	if since >= now.UnixMilli() {
		return usagef("report: --since %s is not in the past", *sinceFlag)
	}
	src, origin, closeSrc, err := openPrivacySource(e, *db)
	if err != nil {
		return err
	}
	defer closeSrc()
	// Write beside the target and rename: a failed report never leaves
	// a half-written file that looks complete.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".permd-report-*")
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer os.Remove(tmp.Name())
	opt := privacy.ReportOptions{Now: now, Since: now.Sub(time.UnixMilli(since)), Package: *pkg, Origin: origin}
	if err := privacy.Report(ctx, src, opt, tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	st, _ := os.Stat(*out)
	fmt.Fprintf(e.stdout, "wrote %s (%d bytes)\n", *out, st.Size())
	return nil
}
