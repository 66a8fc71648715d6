// Command permd-e2e runs permd's end-to-end scenarios against a host-mode
// daemon it starts (--transport local) or against a device or Cuttlefish
// over adb (--transport adb). See docs/aosp.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
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
	transport := fs.String("transport", "local", "local (host-mode daemon started here) or adb (device, Cuttlefish)")
	permd := fs.String("permd", "", "local: permd binary to run (default: build ./cmd/permd)")
	keep := fs.Bool("keep", false, "keep the daemon's temp dir (local) or device dir (adb --private) for inspection")
	serial := fs.String("serial", os.Getenv("ANDROID_SERIAL"), "adb: device serial, e.g. 127.0.0.1:6520 for Cuttlefish (default $ANDROID_SERIAL)")
	private := fs.Bool("private", false, "adb: adb root, push out/android/<arch> binaries and run a private permd with the framework role (userdebug/eng)")
	deviceDir := fs.String("device-dir", "", "adb --private: device dir (default /data/local/tmp/permd-e2e)")
	binaries := fs.String("binaries", "out/android", "adb --private: local dir with arm64/ and x86_64/ builds from make android")
	adbBin := fs.String("adb", "adb", "adb: the adb command")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: permd-e2e [--transport local|adb] [flags]")
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
	switch *transport {
	case "local":
		t = &e2e.Local{Permd: *permd, Keep: *keep}
	case "adb":
		t = &e2e.ADB{Serial: *serial, Bin: *adbBin, Private: *private, DeviceDir: *deviceDir, Binaries: *binaries, Keep: *keep}
	default:
		fmt.Fprintf(stderr, "permd-e2e: unknown transport %q (local or adb)\n", *transport)
		return 2
	}
	results, err := e2e.Run(ctx, t, e2e.Scenarios, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "permd-e2e: %v\n", err)
		return 3
	}
	for _, r := range results {
		if r.Status == "FAIL" {
			return 1
		}
	}
	return 0
}
