// Command permd-e2e runs permd's end-to-end scenarios against a host-mode
// daemon it starts (--transport local) or against a device or Cuttlefish
// over adb (--transport adb), or over the ADB protocol spoken directly,
// without an adb server (--transport tcp or usb; see docs/usb.md). With
// --all it runs on every device at once. See docs/aosp.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"permd/aosp/e2e"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("permd-e2e", flag.ContinueOnError)
	fs.SetOutput(stderr)
	transport := fs.String("transport", "local", "local (host-mode daemon started here), adb (device, Cuttlefish, through the adb binary), tcp or usb (the ADB protocol spoken directly, no adb server)")
	all := fs.Bool("all", false, "adb, usb: every attached device; tcp: every serial in --serial A,B; in parallel, one result block per device")
	permd := fs.String("permd", "", "local: permd binary to run (default: build ./cmd/permd)")
	keep := fs.Bool("keep", false, "keep the daemon's temp dir (local) or device dir (adb --private) for inspection")
	serial := fs.String("serial", os.Getenv("ANDROID_SERIAL"), "adb: device serial, e.g. 127.0.0.1:6520 for Cuttlefish (default $ANDROID_SERIAL)")
	private := fs.Bool("private", false, "adb: adb root, push out/android/<arch> binaries and run a private permd with the framework role (userdebug/eng)")
	deviceDir := fs.String("device-dir", "", "adb --private: device dir (default /data/local/tmp/permd-e2e)")
	binaries := fs.String("binaries", "out/android", "adb --private: local dir with arm64/ and x86_64/ builds from make android")
	adbBin := fs.String("adb", "adb", "adb: the adb command")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: permd-e2e [--transport local|adb|tcp|usb] [--all] [flags]")
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "exit codes: 0 all passed (or skipped), 1 a scenario failed, 2 usage, 3 could not start")
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "permd-e2e: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var t e2e.Transport
	newADB := func(s string) e2e.Transport {
		a := &e2e.ADB{Serial: s, Bin: *adbBin, Private: *private, DeviceDir: *deviceDir, Binaries: *binaries, Keep: *keep}
		if *transport != "adb" {
			a.Via = *transport
		}
		return a
	}
	switch *transport {
	case "local":
		if *all {
			fmt.Fprintln(stderr, "permd-e2e: --all needs a device transport (adb, tcp, usb)")
			return 2
		}
		t = &e2e.Local{Permd: *permd, Keep: *keep}
	case "adb", "tcp", "usb":
		if *transport != "adb" && !*all && *serial == "" {
			fmt.Fprintf(stderr, "permd-e2e: --transport %s needs --serial (tcp: HOST:PORT, e.g. 127.0.0.1:6520) or --all\n", *transport)
			return 2
		}
		t = newADB(*serial)
	default:
		fmt.Fprintf(stderr, "permd-e2e: unknown transport %q (local, adb, tcp or usb)\n", *transport)
		return 2
	}
	if *all {
		var serials []string
		if *transport == "tcp" {
			serials = strings.Split(*serial, ",")
		} else {
			var err error
			if serials, err = e2e.Serials(ctx, *transport, *adbBin); err != nil {
				fmt.Fprintf(stderr, "permd-e2e: %v\n", err)
				return 3
			}
		}
		if len(serials) == 0 || serials[0] == "" {
			fmt.Fprintf(stderr, "permd-e2e: no devices found for --transport %s\n", *transport)
			return 3
		}
		code := 0
		for _, r := range e2e.RunAll(ctx, serials, newADB, stdout) {
			switch {
			case r.Err != nil:
				code = max(code, 3)
			case failed(r.Results):
				code = max(code, 1)
			}
		}
		return code
	}
	results, err := e2e.Run(ctx, t, e2e.Scenarios, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "permd-e2e: %v\n", err)
		return 3
	}
	if failed(results) {
		return 1
	}
	return 0
}

func failed(results []e2e.Result) bool {
	for _, r := range results {
		if r.Status == "FAIL" {
			return true
		}
	}
	return false
}
