package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"permd/framework/protocol"
)

// ADB talks to permd on a device or Cuttlefish by running permctl through
// `adb -s SERIAL shell`.
//
// By default it uses the installed service (/dev/socket/permd, started by
// init) as the shell user: that proves the image, init, SELinux and the
// socket, but the shell role may only read, so the scenarios that act as
// the framework are skipped. With Private, it runs `adb root` (userdebug
// or eng builds), pushes the device binaries and a config that gives root
// the framework role to DeviceDir, and starts a second permd there, so
// every scenario runs on the device's kernel and libc.
type ADB struct {
	Serial     string // adb -s SERIAL; "" means adb's default device
	Bin        string // the adb command; default "adb"
	Private    bool
	DeviceDir  string // for Private; default /data/local/tmp/permd-e2e
	DeviceRoot string // for Private: permd --root; default "/"
	Binaries   string // for Private: local dir holding arm64/ and x86_64/ builds; default out/android
	Permctl    string // installed permctl; default /system_ext/bin/permctl
	Keep       bool   // for Private: leave DeviceDir on the device
	// FrameworkUID gets the framework role in the private daemon's config:
	// 0, the uid of an adb root shell (tests on a host use their own uid).
	FrameworkUID int
	// Via is "" for the adb binary, or "tcp" or "usb" for package adb's
	// own connection to Serial (no adb server involved).
	Via string

	direct  *direct
	socket  string
	permctl string
}

// Name implements Transport.
func (a *ADB) Name() string {
	mode := "installed service, shell user"
	if a.Private {
		mode = "private permd under " + a.deviceDir() + ", root"
	}
	if a.Via != "" {
		return fmt.Sprintf("%s %s (%s)", a.Via, a.serialName(), mode)
	}
	return fmt.Sprintf("adb %s (%s)", a.serialName(), mode)
}

func (a *ADB) serialName() string {
	if a.Serial == "" {
		return "(default device)"
	}
	return a.Serial
}

func (a *ADB) deviceDir() string {
	if a.DeviceDir == "" {
		return "/data/local/tmp/permd-e2e"
	}
	return a.DeviceDir
}

// adb runs one adb command and returns stdout, stderr and the exit code
// (adb shell passes the remote exit code through since shell protocol v2).
func (a *ADB) adb(ctx context.Context, args ...string) (string, string, int, error) {
	if a.Via != "" {
		if a.direct == nil {
			a.direct = &direct{via: a.Via, serial: a.Serial}
		}
		return a.direct.run(ctx, args...)
	}
	bin := a.Bin
	if bin == "" {
		bin = "adb"
	}
	if a.Serial != "" {
		args = append([]string{"-s", a.Serial}, args...)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), errb.String(), ee.ExitCode(), nil
	}
	if err != nil {
		return "", "", -1, fmt.Errorf("%s %s: %w", bin, strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), 0, nil
}

// shell runs a command line on the device.
func (a *ADB) shell(ctx context.Context, cmdline string) (string, string, int, error) {
	return a.adb(ctx, "shell", cmdline)
}

// must runs a shell command that has to succeed.
func (a *ADB) must(ctx context.Context, cmdline string) (string, error) {
	out, errs, code, err := a.shell(ctx, cmdline)
	if err != nil {
		return "", err
	}
	if code != 0 {
		return "", fmt.Errorf("adb shell %s: exit %d: %s", cmdline, code, strings.TrimSpace(errs+out))
	}
	return out, nil
}

// quote makes s one word for the device's sh.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// Start implements Transport.
func (a *ADB) Start(ctx context.Context) error {
	out, errs, code, err := a.adb(ctx, "get-state")
	if err != nil {
		return fmt.Errorf("adb not usable (install Debian package adb or the platform tools): %w", err)
	}
	if code != 0 || strings.TrimSpace(out) != "device" {
		return fmt.Errorf("device %s is not ready: %s%s (for Cuttlefish: adb connect 127.0.0.1:6520)", a.serialName(), out, errs)
	}
	if !a.Private {
		a.socket = "/dev/socket/permd"
		a.permctl = a.Permctl
		if a.permctl == "" {
			a.permctl = "/system_ext/bin/permctl"
		}
		state, _ := a.must(ctx, "getprop init.svc.permd")
		if strings.TrimSpace(state) != "running" {
			return fmt.Errorf("init.svc.permd is %q, want running (is permd in PRODUCT_PACKAGES? see docs/aosp.md)", strings.TrimSpace(state))
		}
		return nil
	}
	return a.startPrivate(ctx)
}

func (a *ADB) startPrivate(ctx context.Context) error {
	if out, errs, code, err := a.adb(ctx, "root"); err != nil || code != 0 {
		return fmt.Errorf("adb root failed (a user build cannot run the private daemon): %v %s%s", err, out, errs)
	}
	a.adb(ctx, "wait-for-device")
	abi, err := a.must(ctx, "getprop ro.product.cpu.abi")
	if err != nil {
		return err
	}
	arch := map[string]string{"arm64-v8a": "arm64", "x86_64": "x86_64"}[strings.TrimSpace(abi)]
	if arch == "" {
		return fmt.Errorf("no permd build for ABI %q (have arm64-v8a, x86_64)", strings.TrimSpace(abi))
	}
	bins := a.Binaries
	if bins == "" {
		bins = "out/android"
	}
	bins = filepath.Join(bins, arch)
	for _, b := range []string{"permd", "permctl"} {
		if _, err := os.Stat(filepath.Join(bins, b)); err != nil {
			return fmt.Errorf("%v: run `make android` first", err)
		}
	}
	dir := a.deviceDir()
	root := a.DeviceRoot
	if root == "" {
		root = "/"
	}
	local, err := os.MkdirTemp("", "permd-e2e-push-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(local)
	// The private daemon's client is the adb root shell: it gets the
	// framework role.
	if err := writeConfig(filepath.Join(local, "config"), a.FrameworkUID); err != nil {
		return err
	}
	run := fmt.Sprintf(`cd %[1]s || exit 1
./permd --socket %[1]s/permd.sock --root %[2]s --data-dir %[1]s/data --config-dir %[1]s/config >%[1]s/permd.log 2>&1 &
echo $! >%[1]s/permd.pid
wait $!
echo $? >%[1]s/permd.exit
`, dir, quote(root))
	if err := os.WriteFile(filepath.Join(local, "run.sh"), []byte(run), 0o755); err != nil {
		return err
	}
	if _, err := a.must(ctx, "rm -rf "+quote(dir)+" && mkdir -p "+quote(dir)); err != nil {
		return err
	}
	for _, p := range [][2]string{
		{filepath.Join(bins, "permd"), dir + "/permd"},
		{filepath.Join(bins, "permctl"), dir + "/permctl"},
		{filepath.Join(local, "config"), dir + "/config"},
		{filepath.Join(local, "run.sh"), dir + "/run.sh"},
	} {
		if out, errs, code, err := a.adb(ctx, "push", p[0], p[1]); err != nil || code != 0 {
			return fmt.Errorf("adb push %s: %v %s%s", p[0], err, out, errs)
		}
	}
	if _, err := a.must(ctx, "chmod 755 "+dir+"/permd "+dir+"/permctl "+dir+"/run.sh"); err != nil {
		return err
	}
	if _, err := a.must(ctx, "nohup sh "+dir+"/run.sh </dev/null >/dev/null 2>&1 &"); err != nil {
		return err
	}
	a.socket = dir + "/permd.sock"
	a.permctl = dir + "/permctl"
	deadline := time.Now().Add(30 * time.Second)
	for {
		var h rawJSON
		err := a.Call(ctx, protocol.MethodSysHealth, nil, &h)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			log, _, _, _ := a.shell(ctx, "tail -20 "+dir+"/permd.log")
			return fmt.Errorf("private permd did not answer within 30 s: %v\nlog:\n%s", err, log)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

var codeRE = regexp.MustCompile(`\(code (-?\d+)\)\s*$`)

// Call implements Transport through `permctl call`.
func (a *ADB) Call(ctx context.Context, method string, params, result any) error {
	cmdline := a.permctl + " --socket " + quote(a.socket) + " call " + quote(method)
	if params != nil {
		b, err := json.Marshal(params)
		if err != nil {
			return err
		}
		cmdline += " " + quote(string(b))
	}
	out, errs, code, err := a.shell(ctx, cmdline)
	if err != nil {
		return err
	}
	msg := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(errs), "permctl: "))
	switch code {
	case 0:
		if result == nil {
			return nil
		}
		if err := json.Unmarshal([]byte(out), result); err != nil {
			return fmt.Errorf("permctl call %s: result is not JSON: %v: %q", method, err, out)
		}
		return nil
	case 4: // permctl: permission denied
		return &RPCError{Code: protocol.CodePermissionDenied, Message: msg}
	case 5: // another JSON-RPC error; the message ends with (code N)
		if m := codeRE.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[1])
			return &RPCError{Code: n, Message: strings.TrimSpace(codeRE.ReplaceAllString(msg, ""))}
		}
	}
	return fmt.Errorf("permctl call %s: exit %d: %s", method, code, strings.TrimSpace(msg+" "+out))
}

// Apps implements Transport: the first two installed third-party apps,
// else any two apps with app uids.
func (a *ADB) Apps(ctx context.Context) ([]App, error) {
	for _, flags := range []string{"-U -3", "-U"} {
		out, err := a.must(ctx, "cmd package list packages "+flags)
		if err != nil {
			return nil, err
		}
		var apps []App
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			// package:com.example.app uid:10123
			f := strings.Fields(sc.Text())
			if len(f) < 2 || !strings.HasPrefix(f[0], "package:") || !strings.HasPrefix(f[1], "uid:") {
				continue
			}
			uid, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(f[1], "uid:"), ",", 2)[0])
			if err != nil || uid%100000 < 10000 {
				continue
			}
			apps = append(apps, App{UID: uid, Package: strings.TrimPrefix(f[0], "package:")})
		}
		if len(apps) >= 2 {
			return apps[:2], nil
		}
	}
	return nil, fmt.Errorf("found fewer than two apps with app uids (cmd package list packages -U)")
}

// Stop implements Transport. The installed service is left running; a
// private daemon gets SIGTERM and must exit 0 and remove its socket.
func (a *ADB) Stop(ctx context.Context) error {
	if a.direct != nil {
		defer a.direct.drop()
	}
	if !a.Private {
		state, _ := a.must(ctx, "getprop init.svc.permd")
		if s := strings.TrimSpace(state); s != "running" {
			return fmt.Errorf("init.svc.permd is %q after the scenarios, want running", s)
		}
		return nil
	}
	dir := a.deviceDir()
	if !a.Keep {
		defer a.shell(context.Background(), "rm -rf "+quote(dir))
	}
	if _, err := a.must(ctx, "kill -TERM $(cat "+dir+"/permd.pid)"); err != nil {
		return err
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, _, code, err := a.shell(ctx, "cat "+dir+"/permd.exit")
		if err != nil {
			return err
		}
		if code == 0 {
			if s := strings.TrimSpace(out); s != "0" {
				log, _, _, _ := a.shell(ctx, "tail -20 "+dir+"/permd.log")
				return fmt.Errorf("private permd exited with %s after SIGTERM; log:\n%s", s, log)
			}
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("private permd still running 15 s after SIGTERM")
		}
		time.Sleep(300 * time.Millisecond)
	}
	if _, _, code, _ := a.shell(ctx, "test -e "+dir+"/permd.sock"); code == 0 {
		return fmt.Errorf("private permd left its socket behind")
	}
	return nil
}
