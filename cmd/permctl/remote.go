//go:build !android

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
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

// onDevice takes --device SERIAL out of the command line (before or
// after the command, as --device S or --device=S). With it, the command
// line runs on that device's permctl and its exit status is returned
// (done); devices and ledger pull run here instead, with the serial in
// globalDevice. It works on the raw arguments so that it needs nothing
// from permctl's own flag parsing.
func onDevice(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) ([]string, int, bool) {
	device, rest, err := takeDevice(args)
	globalDevice = device
	if err != nil {
		fmt.Fprintf(stderr, "permctl: %v\n", err)
		return nil, exitUsage, true
	}
	if device == "" {
		return args, 0, false
	}
	switch cmd := commandWord(rest); {
	case cmd == "devices", cmd == "ledger" && slices.Contains(rest, "pull"):
		return rest, 0, false
	}
	remote := getenv("PERMCTL_REMOTE")
	if remote == "" {
		remote = defaultRemotePermctl
	}
	words := []string{adb.ShellQuote(remote)}
	for _, a := range rest {
		words = append(words, adb.ShellQuote(a))
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	c, err := adb.Dial(dctx, device)
	cancel()
	if err != nil {
		fmt.Fprintf(stderr, "permctl: device %s: %v\n", device, err)
		return nil, exitError, true
	}
	defer c.Close()
	cmdline := strings.Join(words, " ")
	code, err := c.Run(ctx, cmdline, stdout, stderr)
	if errors.Is(err, adb.ErrNoShellV2) {
		// Before Android 7 there is no exit status: exec: carries the
		// output only, and a failure shows only in what it prints.
		var out []byte
		out, err = c.Exec(ctx, cmdline)
		stdout.Write(out)
		code = exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "permctl: device %s: %v\n", device, err)
		return nil, exitError, true
	}
	return nil, code, true
}

// takeDevice removes --device SERIAL (or -device, or =SERIAL) from args,
// up to a "--" that ends the flags.
func takeDevice(args []string) (string, []string, error) {
	var device string
	rest := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "device" {
			rest = append(rest, a)
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				return "", nil, usagef("--device needs a serial (see permctl devices)")
			}
			i++
			val = args[i]
		}
		if val == "" {
			return "", nil, usagef("--device needs a serial (see permctl devices)")
		}
		device = val
	}
	return device, rest, nil
}

// commandWord is the first argument that is neither a flag nor the value
// of a global flag that takes one.
func commandWord(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return a
		}
		switch strings.TrimLeft(a, "-") {
		case "socket", "lang":
			i++
		}
	}
	return ""
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
// permctl ledger --db FILE; pullDatabase keeps the two consistent.
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
	got, err := pullDatabase(ctx, c, *remoteDB, local, nil)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %s does not exist (or is not readable by adbd's user: the database needs adb root)", *device, *remoteDB)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "pulled %s:%s to %s (%d bytes)\n", *device, *remoteDB, local, got.db)
	if got.wal >= 0 {
		fmt.Fprintf(e.stdout, "pulled %s-wal to %s-wal (%d bytes)\n", *remoteDB, local, got.wal)
	}
	if got.attempts > 1 {
		fmt.Fprintf(e.stdout, "the database changed during the pull; copied again (%d attempts)\n", got.attempts)
	}
	fmt.Fprintf(e.stdout, "read it with: permctl ledger --db %s\n", filepath.Clean(local))
	return nil
}
