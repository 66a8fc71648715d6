package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"permd/framework/client"
	"permd/framework/frameworktest/harness"
)

// Child modes: the test binary re-executes itself to get real processes
// with other credentials (auth tests) and a real daemon process to signal
// and kill (shutdown and crash tests).
const (
	envChild   = "PERMD_TEST_CHILD"
	envSocket  = "PERMD_TEST_SOCKET"
	envMethods = "PERMD_TEST_METHODS"
)

func TestMain(m *testing.M) {
	switch os.Getenv(envChild) {
	case "caller":
		os.Exit(childCaller())
	case "daemon":
		os.Exit(childDaemon())
	case "script":
		os.Exit(childScript())
	}
	os.Exit(m.Run())
}

// childCaller calls every method named in envMethods with empty params
// and prints {"role": ..., "codes": {method: code}}; code 0 means success.
func childCaller() int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, os.Getenv(envSocket))
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		return 1
	}
	defer c.Close()
	var h Health
	if err := c.Call(ctx, "sys.health", nil, &h); err != nil {
		fmt.Fprintln(os.Stderr, "sys.health:", err)
		return 1
	}
	out := struct {
		UID   int            `json:"uid"`
		Role  Role           `json:"role"`
		Codes map[string]int `json:"codes"`
	}{UID: h.You.UID, Role: h.You.Role, Codes: map[string]int{}}
	for _, m := range strings.Split(os.Getenv(envMethods), ",") {
		cctx, ccancel := context.WithTimeout(ctx, 3*time.Second)
		err := c.Call(cctx, m, nil, nil)
		ccancel()
		switch {
		case err == nil:
			out.Codes[m] = 0
		case rpcCode(err) != 0:
			out.Codes[m] = rpcCode(err)
		default:
			out.Codes[m] = 1 // timeout or transport: not a denial
		}
	}
	json.NewEncoder(os.Stdout).Encode(out)
	return 0
}

// childDaemon runs a service from env settings until SIGTERM.
func childDaemon() int {
	svc, err := New(Options{
		Root:       os.Getenv("PERMD_TEST_ROOT"),
		DataDir:    os.Getenv("PERMD_TEST_DATA"),
		ConfigDir:  os.Getenv("PERMD_TEST_CONFIG"),
		SocketPath: os.Getenv(envSocket),
		Version:    "test-daemon",
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "new:", err)
		return 1
	}
	if path := os.Getenv(envHeapLog); path != "" {
		go logHeap(path)
	}
	if err := svc.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		return 1
	}
	return 0
}

// envHeapLog names a file a daemon child rewrites every 200 ms with its
// Go heap in bytes (HeapInuse), for the soak benchmark.
const envHeapLog = "PERMD_TEST_HEAPLOG"

func logHeap(path string) {
	for {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		os.WriteFile(path+".tmp", []byte(strconv.FormatUint(m.HeapInuse, 10)), 0o644)
		os.Rename(path+".tmp", path)
		time.Sleep(200 * time.Millisecond)
	}
}

// selfExecutable copies the test binary to a directory every uid can
// read and execute: go test builds it under a 0700 temp dir.
func selfExecutable(t testing.TB) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := harness.TempDir(t)
	dst := filepath.Join(dir, "permd-test")
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

// runAs runs the test binary as uid (with gid = uid) in caller mode.
func runAs(t *testing.T, exe string, uid int, socket string, methods []string) (role Role, codes map[string]int) {
	t.Helper()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envChild+"=caller", envSocket+"="+socket, envMethods+"="+strings.Join(methods, ","))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid), Groups: []uint32{socketGID}}}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child as uid %d: %v\n%s", uid, err, stderr.String())
	}
	var res struct {
		UID   int            `json:"uid"`
		Role  Role           `json:"role"`
		Codes map[string]int `json:"codes"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	if res.UID != uid {
		t.Fatalf("daemon saw uid %d, child ran as %d", res.UID, uid)
	}
	return res.Role, res.Codes
}

// socketGID is the group the auth tests give the socket and their
// children: like init's `socket permd stream 0660 system system`, only
// members of the socket's group may connect.
const socketGID = 3333

// requireRoot skips loudly when the test cannot switch uids.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("this test needs root to start processes with other uids; CI runs as root")
		}
		t.Skip("SKIP: needs root to start processes with other uids (run make test as root)")
	}
}
