//go:build !android

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"permd/aosp/adb"
)

// The host build of permctl reaches devices itself through package adb,
// without an adb server: over USB (built with -tags usb) or TCP
// (host:port serials, e.g. Cuttlefish's 127.0.0.1:6520). See docs/usb.md.

func init() {
	register(command{name: "devices", summary: "list devices reachable over USB (and --tcp HOST:PORT) with serial, model and state (host build)", run: runDevices})
}

// defaultRemotePermctl is where the image installs permctl.
const defaultRemotePermctl = "/system_ext/bin/permctl"

// defaultRemoteDB is the daemon's database on a device (permd.rc).
const defaultRemoteDB = "/data/misc/permd/permd.db"

// globalDevice is --device SERIAL, for the commands that run here and
// reach the device themselves (ledger pull).
var globalDevice string

// addDeviceFlag registers the global --device flag.
func addDeviceFlag(fs *flag.FlagSet) *string {
	return fs.String("device", "", "run the command on this device (USB serial or HOST:PORT), through the ADB transport (host build)")
}

// runOnDevice runs permctl on the device named by --device, passing the
// command line and the global flags given, and returns its exit status.
// It returns false when there is nothing to forward: no --device, or a
// command that runs here (devices, ledger pull).
func runOnDevice(ctx context.Context, e *env, device string, rest []string, getenv func(string) string) (int, bool) {
	globalDevice = device
	if device == "" || len(rest) == 0 {
		return 0, false
	}
	if rest[0] == "devices" || (len(rest) > 1 && rest[0] == "ledger" && rest[1] == "pull") {
		return 0, false
	}
	remote := getenv("PERMCTL_REMOTE")
	if remote == "" {
		remote = defaultRemotePermctl
	}
	words := []string{adb.ShellQuote(remote)}
	if e.json {
		words = append(words, "--json")
	}
	if e.socket != "" {
		words = append(words, "--socket", adb.ShellQuote(e.socket))
	}
	for _, a := range rest {
		words = append(words, adb.ShellQuote(a))
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	c, err := adb.Dial(dctx, device)
	cancel()
	if err != nil {
		fmt.Fprintf(e.stderr, "permctl: device %s: %v\n", device, err)
		return exitError, true
	}
	defer c.Close()
	cmdline := strings.Join(words, " ")
	code, err := c.Run(ctx, cmdline, e.stdout, e.stderr)
	if errors.Is(err, adb.ErrNoShellV2) {
		// Before Android 7 there is no exit status: exec: carries the
		// output only, and a failure shows only in what it prints.
		var out []byte
		out, err = c.Exec(ctx, cmdline)
		e.stdout.Write(out)
		code = exitOK
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "permctl: device %s: %v\n", device, err)
		return exitError, true
	}
	return code, true
}

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func runDevices(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "devices", "[--tcp HOST:PORT ...] [--timeout 5s] [--json]")
	var tcp listFlag
	fs.Var(&tcp, "tcp", "also probe adbd at HOST:PORT (repeatable; Cuttlefish: 127.0.0.1:6520)")
	timeout := fs.Duration("timeout", 5*time.Second, "how long each device may take to answer")
	asJSON := fs.Bool("json", e.json, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	for _, a := range tcp {
		if !adb.IsTCPSerial(a) {
			return usagef("--tcp %q: want HOST:PORT", a)
		}
	}
	list, usbErr := adb.ListDevices(ctx, tcp, *timeout)
	if usbErr != nil {
		// Still show the TCP devices; say why USB ones may be missing.
		fmt.Fprintf(e.stderr, "permctl: usb: %v\n", usbErr)
	}
	if list == nil {
		list = []adb.DeviceInfo{}
	}
	if *asJSON {
		return e.printJSON(list)
	}
	tw := e.table()
	fmt.Fprintln(tw, "SERIAL\tTRANSPORT\tSTATE\tMODEL\tNOTE")
	for _, d := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Serial, d.Transport, d.State, d.Model, d.Error)
	}
	return tw.Flush()
}

// runLedgerPull copies the device's database (and its -wal file, which
// holds the latest commits until a checkpoint) with sync:, for
// permctl ledger --db FILE.
func runLedgerPull(ctx context.Context, e *env, args []string) error {
	fl := newFlags(e, "ledger pull", "--device SERIAL [--remote-db PATH] FILE")
	device := fl.String("device", globalDevice, "the device (USB serial or HOST:PORT)")
	remoteDB := fl.String("remote-db", defaultRemoteDB, "the database on the device")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	if fl.NArg() != 1 {
		return usagef("ledger pull needs one FILE to write")
	}
	if *device == "" {
		return usagef("ledger pull needs --device SERIAL (see permctl devices)")
	}
	local := fl.Arg(0)
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	c, err := adb.Dial(dctx, *device)
	cancel()
	if err != nil {
		return fmt.Errorf("device %s: %w", *device, err)
	}
	defer c.Close()
	n, err := c.PullFile(ctx, *remoteDB, local)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %s does not exist (or is not readable by adbd's user: the database needs adb root)", *device, *remoteDB)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "pulled %s:%s to %s (%d bytes)\n", *device, *remoteDB, local, n)
	// The WAL goes with it, or the copy would miss recent records. The
	// two files are copied one after the other, so records committed in
	// between may be missing from the copy, never half-present: SQLite
	// ignores an incomplete WAL frame.
	// A -wal left from an earlier pull would be applied to this copy.
	for _, stale := range []string{local + "-wal", local + "-shm"} {
		if err := os.Remove(stale); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", stale, err)
		}
	}
	wn, err := c.PullFile(ctx, *remoteDB+"-wal", local+"-wal")
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("pull the -wal file: %w", err)
	default:
		fmt.Fprintf(e.stdout, "pulled %s-wal to %s-wal (%d bytes)\n", *remoteDB, local, wn)
	}
	fmt.Fprintf(e.stdout, "read it with: permctl ledger --db %s\n", filepath.Clean(local))
	return nil
}
