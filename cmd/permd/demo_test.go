package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"permd/framework/frameworktest/harness"
)

// demoUID is the normal user the demo test runs as (no passwd entry
// needed: setpriv takes numbers).
const demoUID = 1001

// buildBinaries builds permd and permctl into dir/bin as make build
// does, with extra go build arguments.
func buildBinaries(t *testing.T, dir string, extra ...string) {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("SKIP: no go command to build the binaries: %v", err)
	}
	args := append([]string{"build"}, extra...)
	args = append(args, "-o", filepath.Join(dir, "bin")+"/", "permd/cmd/permd", "permd/cmd/permctl")
	cmd := exec.Command(gobin, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", args, err, out)
	}
}

func needSetpriv(t *testing.T) string {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("SKIP: running as another uid needs root (setpriv)")
	}
	p, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skipf("SKIP: no setpriv (util-linux): %v", err)
	}
	return p
}

// openDir makes t.TempDir() usable by another uid: the folders above it
// are 0700.
func openDir(t *testing.T, owner int) string {
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	os.Chown(dir, owner, owner)
	return dir
}

func asUser(setpriv string, uid int, name string, args ...string) *exec.Cmd {
	return exec.Command(setpriv, append([]string{fmt.Sprintf("--reuid=%d", uid), fmt.Sprintf("--regid=%d", uid), "--clear-groups", "--", name}, args...)...)
}

// TestDemoExamplesAsNormalUser is make run for a user without root: it
// builds the binaries, starts permd --demo as uid 1001 and pastes every
// example of the banner (= README) into a shell as that user; then the
// same as root.
func TestDemoExamplesAsNormalUser(t *testing.T) {
	setpriv := needSetpriv(t)
	bins := openDir(t, demoUID)
	buildBinaries(t, bins)
	for _, uid := range []int{demoUID, 0} {
		t.Run(fmt.Sprintf("uid%d", uid), func(t *testing.T) { pasteDemoExamples(t, setpriv, bins, uid) })
	}
}

func pasteDemoExamples(t *testing.T, setpriv, bins string, uid int) {
	top := openDir(t, uid)
	os.Symlink(filepath.Join(bins, "bin"), filepath.Join(top, "bin"))
	dout := &harness.Buffer{}
	d := asUser(setpriv, uid, filepath.Join(top, "bin", "permd"), "--demo", filepath.Join(top, "run"))
	d.Dir = top
	d.Stdout, d.Stderr = dout, dout
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Process.Signal(syscall.SIGTERM)
		d.Wait()
	})
	sock := filepath.Join(top, "run", "permd.sock")
	harness.WaitListening(t, sock, time.Minute, dout)
	var script strings.Builder
	script.WriteString("set -o pipefail\nexport PERMD_SOCKET=" + sock + "\n")
	lines := strings.Split(strings.TrimSpace(demoExamples), "\n")
	for i, line := range lines {
		fmt.Fprintf(&script, "echo '### example %d'\n%s\nrc=$?; [ $rc = 0 ] || { echo \"### example %d failed: exit $rc\"; exit 1; }\n", i, line, i)
	}
	sh := asUser(setpriv, uid, "bash", "-c", script.String())
	sh.Dir = top
	out, err := sh.CombinedOutput()
	if err != nil {
		t.Fatalf("pasting the demo examples as uid %d: %v\n%s\ndaemon:\n%s", uid, err, out, dout.String())
	}
	for _, want := range []string{
		fmt.Sprintf("uid %d, role root", uid), // status
		"location — 位置信息",                     // catalogue --lang zh-CN
		"granted org.example.host.user location: while_in_use",
		`"allowed": true`,               // perm.check
		"com.example.chat",              // indicators while the use runs
		"ok: every sealed row verifies", // ledger verify
		"org.example.host.user",         // procs --apps
		"记录规则",                          // rules --lang zh-CN
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the examples' output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "kthreadd") {
		t.Errorf("procs --apps lists kernel threads as an app:\n%s", out)
	}
	if uid != 0 && !strings.Contains(dout.String(), "your role: root (given to your uid") {
		t.Errorf("banner does not say the role:\n%s", dout.String())
	}
}

// TestPermctlExitCodesAsOtherUser: a socket this user may not open is a
// permission problem (exit 4), not an absent daemon (3); and the device
// build of permctl, without SQLite, says so for --db.
func TestPermctlExitCodesAsOtherUser(t *testing.T) {
	setpriv := needSetpriv(t)
	top := openDir(t, demoUID)
	buildBinaries(t, top, "-tags", "nosqlite")
	sock := filepath.Join(top, "root-only.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	os.Chmod(sock, 0o600)
	permctl := filepath.Join(top, "bin", "permctl")
	cmd := asUser(setpriv, demoUID, permctl, "--socket", sock, "status")
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 4 || !strings.Contains(string(out), "permission denied") {
		t.Errorf("permctl status on a root-only socket as uid %d: exit %d %q; want 4 and permission denied", demoUID, code, out)
	}
	cmd = exec.Command(permctl, "ledger", "--db", filepath.Join(top, "permd.db"))
	out, _ = cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), "built without SQLite") || !strings.Contains(string(out), "adb exec-out") {
		t.Errorf("nosqlite permctl ledger --db: exit %d %q", code, out)
	}
}
