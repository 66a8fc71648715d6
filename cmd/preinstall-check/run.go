package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"permd/aosp/apk"
	"permd/aosp/preinstall"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // a check failed, or an APK could not be read
	exitUsage = 2
)

const usageText = `usage:
  preinstall-check inspect FILE.apk [--json] [--no-content-digest]
  preinstall-check verify --registry DIR [--root IMAGE_ROOT] [--today YYYY-MM-DD] [--json] APK_OR_DIR...
  preinstall-check init FILE.apk [-o OUT.json]

inspect  prints the package facts and signers, and which signature checks ran.
verify   checks every APK against the registry (one JSON record per app);
         prints one line per finding and a summary; exits 1 if anything fails.
init     writes a registry record template with the facts from the APK.
exit codes: 0 ok, 1 check failed or unreadable input, 2 usage`

func run(args []string, stdout, stderr io.Writer, now func() time.Time) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usageText)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "inspect":
		err = runInspect(args[1:], stdout, stderr)
	case "verify":
		err = runVerify(args[1:], stdout, stderr, now)
	case "init":
		err = runInit(args[1:], stdout, stderr, now)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, usageText)
		return exitOK
	default:
		fmt.Fprintf(stderr, "preinstall-check: unknown command %q\n%s\n", args[0], usageText)
		return exitUsage
	}
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "preinstall-check: %s\n%s\n", ue.msg, usageText)
		return exitUsage
	case errors.Is(err, errFailed):
		return exitFail
	}
	fmt.Fprintf(stderr, "preinstall-check: %v\n", err)
	return exitFail
}

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// errFailed means the output already said what failed.
var errFailed = errors.New("check failed")

// parseInterleaved parses flags that may come before or after the
// positional arguments ("inspect x.apk --json").
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func runInspect(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("inspect", stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	noDigest := fs.Bool("no-content-digest", false, "skip recomputing the v2/v3 content digest (faster on large APKs)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"inspect takes one APK"}
	}
	rep, err := apk.Inspect(pos[0], apk.Options{SkipContentDigest: *noDigest})
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if *asJSON {
		if err := printJSON(stdout, rep); err != nil {
			return err
		}
	} else {
		printReport(stdout, rep)
	}
	if rep.Failed() {
		return errFailed
	}
	return nil
}

func printReport(w io.Writer, r *apk.Report) {
	fmt.Fprintf(w, "apk:            %s (%d bytes, %d entries)\n", r.Path, r.Size, r.Entries)
	if m := r.Manifest; m != nil {
		fmt.Fprintf(w, "package:        %s\n", m.Package)
		fmt.Fprintf(w, "versionCode:    %d\n", m.VersionCode)
		fmt.Fprintf(w, "versionName:    %s\n", m.VersionName)
		fmt.Fprintf(w, "minSdk:         %d\n", m.MinSDK)
		fmt.Fprintf(w, "targetSdk:      %d\n", m.TargetSDK)
		if m.MaxSDK != 0 {
			fmt.Fprintf(w, "maxSdk:         %d\n", m.MaxSDK)
		}
		if m.SharedUserID != "" {
			fmt.Fprintf(w, "sharedUserId:   %s\n", m.SharedUserID)
		}
		fmt.Fprintf(w, "permissions:    %d\n", len(m.Permissions))
		for _, p := range m.Permissions {
			fmt.Fprintf(w, "  %s\n", p)
		}
		fmt.Fprintln(w, "application:")
		for _, k := range m.SortedApplicationKeys() {
			fmt.Fprintf(w, "  %s=%s\n", k, m.Application[k])
		}
	}
	schemes := strings.Join(r.Schemes, ", ")
	if schemes == "" {
		schemes = "none (unsigned)"
	}
	fmt.Fprintf(w, "schemes:        %s\n", schemes)
	if len(r.Blocks) > 0 {
		fmt.Fprintf(w, "signing block:  %s\n", strings.Join(r.Blocks, ", "))
	}
	for _, s := range r.Signers {
		v := "NOT VERIFIED"
		if s.Verified {
			v = "verified"
		}
		fmt.Fprintf(w, "signer %-5s    %s %s (%s)\n", s.Scheme, s.CertSHA256, s.Subject, v)
		if s.Scheme == "v3" || s.Scheme == "v3.1" {
			fmt.Fprintf(w, "                sdk %d..%d rotation=%v\n", s.MinSDK, s.MaxSDK, s.Rotation)
		}
	}
	fmt.Fprintln(w, "checks:")
	for _, c := range r.Checks {
		fmt.Fprintf(w, "  %-7s %s: %s\n", strings.ToUpper(c.Result), c.Name, c.Detail)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
}

func runVerify(args []string, stdout, stderr io.Writer, now func() time.Time) error {
	fs := newFlags("verify", stderr)
	reg := fs.String("registry", "", "registry directory (one JSON record per app)")
	root := fs.String("root", "", "image root for checking image paths of PI rules copies")
	today := fs.String("today", "", "check dates as of this day (YYYY-MM-DD; default today)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if *reg == "" {
		return &usageError{"verify needs --registry DIR"}
	}
	if len(pos) == 0 {
		return &usageError{"verify needs at least one APK or directory"}
	}
	t := now()
	if *today != "" {
		if t, err = time.Parse("2006-01-02", *today); err != nil {
			return &usageError{fmt.Sprintf("--today %q is not YYYY-MM-DD", *today)}
		}
	}
	r, err := preinstall.LoadDir(*reg)
	if err != nil {
		return err
	}
	c := &preinstall.Checker{Registry: r, Now: t, Root: *root}
	if isTerminal(stderr) {
		// A big image folder takes a while: show how far it got, on
		// the terminal only (logs of a build stay clean).
		c.Progress = func(done, total int) {
			fmt.Fprintf(stderr, "\rchecked %d of %d APKs", done, total)
			if done == total {
				fmt.Fprint(stderr, "\r\033[K")
			}
		}
	}
	res, err := c.CheckPaths(pos...)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := printJSON(stdout, res); err != nil {
			return err
		}
	} else {
		for _, f := range res.Findings {
			fmt.Fprintln(stdout, f.String())
		}
		s := res.Summary
		verdict := "PASS"
		if !res.OK() {
			verdict = "FAIL"
		}
		fmt.Fprintf(stdout, "%s: %d APKs, %d passed, %d failed; %d failing findings, %d warnings\n", verdict, s.APKs, s.Passed, s.Failed, s.Fails, s.Warnings)
	}
	if !res.OK() {
		return errFailed
	}
	return nil
}

func runInit(args []string, stdout, stderr io.Writer, now func() time.Time) error {
	fs := newFlags("init", stderr)
	out := fs.String("o", "", "write the template here instead of standard output (refuses to overwrite)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"init takes one APK"}
	}
	rep, err := apk.Inspect(pos[0], apk.Options{})
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if rep.Manifest == nil {
		return fmt.Errorf("%s: %s", pos[0], strings.Join(rep.Errors, "; "))
	}
	rec := preinstall.Template(rep, now())
	if *out == "" {
		return printJSON(stdout, rec)
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if err := printJSON(f, rec); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s: fill in and verify every empty field, then run verify\n", *out)
	return nil
}

// isTerminal says whether w is a character device (a terminal), with
// the standard library only: this tool is built by Soong, which has no
// golang.org/x/sys.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
