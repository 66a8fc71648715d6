package e2e

import (
	"bytes"
	"context"
	"crypto/rsa"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"permd/aosp/adb"
	"permd/aosp/adb/adbtest"
)

// deviceTools stand in for the device's getprop and cmd; everything else
// the runner does on the "device" is this host's sh and file system.
var deviceTools = map[string]string{
	"getprop": "#!/bin/sh\ncase \"$1\" in\nro.product.cpu.abi) echo x86_64 ;;\ninit.svc.permd) echo running ;;\nesac\n",
	"cmd":     "#!/bin/sh\nprintf 'package:com.example.camera uid:10123\\npackage:com.example.notes uid:10124\\n'\n",
}

// TestTCPTransportWithTestDevice runs the scenarios with --transport tcp
// --all on two devices at once:
// the runner reaches a test device speaking the ADB protocol over TCP,
// with no adb binary or server, pushes the x86_64 builds with sync:,
// starts the private daemon and drives it through shell protocol v2.
func TestTCPTransportWithTestDevice(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skipf("SKIP: the test device runs the x86_64 build, this host is %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skipf("SKIP: no go command: %v", err)
	}
	// The key goes under $ANDROID_SDK_HOME/.android; HOME stays, so the
	// go command keeps its caches.
	t.Setenv("ANDROID_SDK_HOME", t.TempDir())
	t.Setenv("ADB_VENDOR_KEYS", "")
	keys, err := adb.HostKeys(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tools := filepath.Join(dir, "tools")
	os.MkdirAll(tools, 0o755)
	for name, script := range deviceTools {
		if err := os.WriteFile(filepath.Join(tools, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Two devices, run at once as --all does.
	var devs []*adbtest.Device
	for range 2 {
		devs = append(devs, adbtest.Start(t, &adbtest.Device{Keys: []*rsa.PublicKey{&keys[0].Private.PublicKey}, Env: []string{"PATH=" + tools + ":" + os.Getenv("PATH")}}))
	}
	bins := filepath.Join(dir, "out")
	for _, c := range []string{"permd", "permctl"} {
		goBuild(t, filepath.Join(bins, "x86_64", c), "permd/cmd/"+c, "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	}
	root := filepath.Join(dir, "root")
	if err := writeFixture(root); err != nil {
		t.Fatal(err)
	}
	devdirs := map[string]string{}
	var serials []string
	for i, dev := range devs {
		serials = append(serials, dev.Addr())
		devdirs[dev.Addr()] = filepath.Join(dir, fmt.Sprintf("device%d", i), "data", "local", "tmp", "permd-e2e")
	}
	newT := func(serial string) Transport {
		return &ADB{Via: "tcp", Serial: serial, Private: true, DeviceDir: devdirs[serial], DeviceRoot: root, Binaries: bins, FrameworkUID: os.Getuid()}
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	all := RunAll(ctx, serials, newT, &out)
	if len(all) != 2 {
		t.Fatalf("want 2 device results, got %d\n%s", len(all), out.String())
	}
	for i, r := range all {
		if r.Err != nil {
			t.Fatalf("device %s: %v\n%s", r.Serial, r.Err, out.String())
		}
		block := "=== device " + r.Serial + "\npermd e2e: transport tcp " + r.Serial
		if !strings.Contains(out.String(), block) {
			t.Errorf("no result block starting %q in\n%s", block, out.String())
		}
		t.Run(r.Serial, func(t *testing.T) { checkResults(t, r.Results, out.String()) })
		if _, err := os.Stat(devdirs[r.Serial]); !os.IsNotExist(err) {
			t.Errorf("device dir %s left behind after Stop (err %v)", devdirs[r.Serial], err)
		}
		dev := devs[i]
		// The device sees the host's close a moment later.
		for deadline := time.Now().Add(10 * time.Second); dev.Connections() != 0; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Errorf("%s: %d connections still open 10 s after Stop", r.Serial, dev.Connections())
				break
			}
		}
	}
	if !strings.Contains(out.String(), "client role framework") {
		t.Errorf("want the framework role in the report:\n%s", out.String())
	}
}

func TestParseADBDevices(t *testing.T) {
	out := "List of devices attached\n127.0.0.1:6520\tdevice\nR58M123\tunauthorized\nemulator-5554\tdevice\n\n"
	got := parseADBDevices(out)
	if strings.Join(got, ",") != "127.0.0.1:6520,emulator-5554" {
		t.Errorf("want the two devices in state device, got %v", got)
	}
}
