//go:build !android

package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"permd/aosp/adb"
	"permd/aosp/adb/adbtest"
	"permd/framework/frameworktest"
	"permd/ledger/store"
)

// hostKey gives the test its own adb key under a temp HOME, as adb would
// make it, and returns its public half for the test device.
func hostKey(t *testing.T) *rsa.PublicKey {
	t.Helper()
	// The key goes under $ANDROID_SDK_HOME/.android; HOME stays, so the
	// go command keeps its caches.
	t.Setenv("ANDROID_SDK_HOME", t.TempDir())
	t.Setenv("ADB_VENDOR_KEYS", "")
	keys, err := adb.HostKeys(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	return &keys[0].Private.PublicKey
}

func testDevice(t *testing.T, keys ...*rsa.PublicKey) *adbtest.Device {
	t.Helper()
	return adbtest.Start(t, &adbtest.Device{Keys: keys, Model: "permd_test_model"})
}

func permctlWithEnv(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

func TestDeviceFlagRunsPermctlOnTheDevice(t *testing.T) {
	d := testDevice(t, hostKey(t))
	// The device's permctl: prints its arguments one per line, writes to
	// stderr and exits 4 (permission denied), as the real one can.
	remote := filepath.Join(t.TempDir(), "permctl")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '<%s>\\n' \"$a\"; done\necho 'denied here' >&2\nexit 4\n"
	if err := os.WriteFile(remote, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	code, out, errs := permctlWithEnv(t, map[string]string{"PERMCTL_REMOTE": remote},
		"--device", d.Addr(), "--json", "ledger", "query", "--package", "it's $HOME; rm -rf /")
	want := "<--json>\n<ledger>\n<query>\n<--package>\n<it's $HOME; rm -rf />\n"
	if code != exitDenied || out != want || !strings.Contains(errs, "denied here") {
		t.Errorf("--device: want exit %d, arguments intact and stderr passed through;\ngot exit %d\nstdout %q\nstderr %q", exitDenied, code, out, errs)
	}
	// After the command and in the --device=S form too; the device's
	// permctl parses its own flags.
	code, out, _ = permctlWithEnv(t, map[string]string{"PERMCTL_REMOTE": remote}, "status", "--device="+d.Addr(), "--json")
	if code != exitDenied || out != "<status>\n<--json>\n" {
		t.Errorf("status --device=S --json: got exit %d, stdout %q", code, out)
	}
	if code, _, errs := permctlWithEnv(t, nil, "status", "--device"); code != exitUsage || !strings.Contains(errs, "--device needs a serial") {
		t.Errorf("--device without a serial: want a usage error, got %d %q", code, errs)
	}
	code, _, errs = permctlWithEnv(t, nil, "--device", "127.0.0.1:1", "status")
	if code != exitError || !strings.Contains(errs, "device 127.0.0.1:1") {
		t.Errorf("--device with nothing listening: want exit %d naming the device, got %d %q", exitError, code, errs)
	}
	code, _, errs = permctlWithEnv(t, nil, "--device", "0123456789ABCDEF", "status")
	if adb.USBSupported {
		t.Skip("SKIP: the USB build looks for a real device")
	}
	if code != exitError || !strings.Contains(errs, "-tags usb") {
		t.Errorf("--device with a USB serial in a build without USB: want a message naming -tags usb, got %d %q", code, errs)
	}
}

func TestDevicesListsStateAndModel(t *testing.T) {
	ok := testDevice(t, hostKey(t))
	stranger, err := adb.GenerateKey(filepath.Join(t.TempDir(), "adbkey"))
	if err != nil {
		t.Fatal(err)
	}
	locked := testDevice(t, &stranger.Private.PublicKey)
	code, out, errs := permctlWithEnv(t, nil, "devices", "--tcp", ok.Addr(), "--tcp", locked.Addr(), "--tcp", "127.0.0.1:1", "--timeout", "3s")
	if code != exitOK {
		t.Fatalf("devices: exit %d: %s", code, errs)
	}
	for _, row := range [][]string{
		{ok.Addr(), "tcp", "device", "permd_test_model"},
		{locked.Addr(), "tcp", "unauthorized"},
		{"127.0.0.1:1", "tcp", "offline"},
	} {
		found := false
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) >= len(row) && strings.Join(f[:len(row)], " ") == strings.Join(row, " ") {
				found = true
			}
		}
		if !found {
			t.Errorf("devices: no row starting %v in\n%s", row, out)
		}
	}
	if !adb.USBSupported && !strings.Contains(errs, "-tags usb") {
		t.Errorf("devices without USB support: want a note naming -tags usb on stderr, got %q", errs)
	}
	code, out, _ = permctlWithEnv(t, nil, "devices", "--json", "--tcp", ok.Addr())
	var list []adb.DeviceInfo
	if code != exitOK || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0].State != "device" || list[0].Model != "permd_test_model" {
		t.Errorf("devices --json: code %d %q", code, out)
	}
	if code, _, _ := permctlWithEnv(t, nil, "devices", "--tcp", "nonsense"); code != exitUsage {
		t.Errorf("--tcp nonsense: want usage exit, got %d", code)
	}
}

func TestLedgerPullOverTheTransport(t *testing.T) {
	dev := testDevice(t, hostKey(t))
	d := frameworktest.Start(t, frameworktest.Options{})
	report := `{"records":[{"uid":10123,"kind":"access","category":"location","op":"android:fine_location","result":"denied","app_state":"background"}]}`
	if code, out, errs := permctl(t, d.Socket, "call", "ledger.report", report); code != exitOK {
		t.Fatalf("report: %d %s %s", code, out, errs)
	}
	local := filepath.Join(t.TempDir(), "pulled.db")
	// A stale -wal from an earlier pull must not be applied to the copy.
	os.WriteFile(local+"-wal", []byte("stale"), 0o644)
	remote := filepath.Join(d.DataDir, store.FileName)
	code, out, errs := permctlWithEnv(t, nil, "--device", dev.Addr(), "ledger", "pull", "--remote-db", remote, local)
	if code != exitOK || !strings.Contains(out, "pulled "+dev.Addr()+":"+remote) {
		t.Fatalf("ledger pull: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = permctl(t, "", "ledger", "--db", local, "--category", "location")
	if code != exitOK || !strings.Contains(out, "denied") {
		t.Errorf("ledger --db on the pulled copy: want the denied location row; exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = permctl(t, "", "ledger", "verify", "--db", local)
	if code != exitOK || !strings.Contains(out, "ok:") {
		t.Errorf("ledger verify on the pulled copy: exit %d\n%s%s", code, out, errs)
	}
	code, _, errs = permctlWithEnv(t, nil, "ledger", "pull", "--device", dev.Addr(), "--remote-db", "/nonexistent/permd.db", local+"2")
	if code != exitError || !strings.Contains(errs, "does not exist") {
		t.Errorf("pull of a missing database: want a clear error, got %d %q", code, errs)
	}
	if code, _, _ := permctlWithEnv(t, nil, "ledger", "pull", local); code != exitUsage {
		t.Errorf("ledger pull without --device: want usage exit, got %d", code)
	}
}
