package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"permd/framework/frameworktest"
)

// permctl runs the CLI in-process and returns its exit code and output.
func permctl(t *testing.T, socket string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := func(k string) string {
		if k == "PERMD_SOCKET" {
			return socket
		}
		return ""
	}
	code := run(context.Background(), args, &out, &errb, env)
	return code, out.String(), errb.String()
}

// expectRun runs permctl and checks its exit code and that want stands
// in what it printed: stdout when the code is exitOK, stderr otherwise.
func expectRun(t *testing.T, socket string, args []string, wantCode int, want string) {
	t.Helper()
	code, out, errs := permctl(t, socket, args...)
	where := out
	if wantCode != exitOK {
		where = errs
	}
	if code != wantCode || !strings.Contains(where, want) {
		t.Errorf("permctl %v: code %d\nstdout: %s\nstderr: %s\nwant code %d containing %q", args, code, out, errs, wantCode, want)
	}
}

func TestStatusAndVersion(t *testing.T) {
	d := frameworktest.Start(t, frameworktest.Options{})
	code, out, errs := permctl(t, d.Socket, "status")
	if code != exitOK || !strings.Contains(out, "status:       ok\n") || !strings.Contains(out, "role root") ||
		!strings.Contains(out, "\nledger:\n  ") || strings.Contains(out, "{") {
		t.Fatalf("status: code %d\n%s%s", code, out, errs)
	}
	code, out, _ = permctl(t, d.Socket, "--json", "version")
	var v struct {
		Permctl string `json:"permctl"`
		Permd   struct {
			Protocol int `json:"protocol"`
		} `json:"permd"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &v) != nil || v.Permd.Protocol != 1 {
		t.Fatalf("version --json: code %d %q", code, out)
	}
	code, out, _ = permctl(t, d.Socket, "call", "sys.health")
	if code != exitOK || !strings.Contains(out, `"status": "ok"`) {
		t.Fatalf("call sys.health: %d %s", code, out)
	}
}

func TestExitCodes(t *testing.T) {
	d := frameworktest.Start(t, frameworktest.Options{})
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"nosuch"}, exitUsage, "unknown command"},
		{[]string{}, exitUsage, "usage"},
		{[]string{"call", "sys.health", "{bad"}, exitUsage, "not valid JSON"},
		// call keeps JSON-RPC's codes for scripts and the e2e runner.
		{[]string{"call", "no.such"}, exitRPCFailure, `no method "no.such" (docs/protocol.md lists them) (code -32601)`},
		{[]string{"call", "sys.helth"}, exitRPCFailure, "did you mean sys.health?) (docs/protocol.md lists them) (code -32601)"},
		{[]string{"call", "grants.set", `{"package":"a"}`}, exitRPCFailure, "not a valid package name (code -32602)"},
		{[]string{"call", "ledger.verify", `{"x":1}`}, exitRPCFailure, "x: unknown field"},
		{[]string{"--socket", filepath.Join(t.TempDir(), "none.sock"), "status"}, exitNoDaemon, "permd is not running"},
	} {
		code, _, errs := permctl(t, d.Socket, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.msg) {
			t.Errorf("permctl %v: code %d stderr %q; want code %d containing %q", tc.args, code, errs, tc.code, tc.msg)
		}
		if n := strings.Count(strings.TrimSpace(errs), "\n"); tc.code != exitUsage && n > 0 {
			t.Errorf("permctl %v: error is %d lines, want one: %q", tc.args, n+1, errs)
		}
	}
}

func TestPermissionDeniedExitCode(t *testing.T) {
	// Give this (root) process the systemui role: it may not read the ledger.
	d := frameworktest.Start(t, frameworktest.Options{Config: map[string]string{
		"permd.json": `{"version":1,"roles":[{"uid":0,"role":"systemui"}]}`,
	}})
	code, _, errs := permctl(t, d.Socket, "ledger")
	if code != exitDenied || !strings.Contains(errs, "permission denied") {
		t.Fatalf("ledger as systemui: code %d, stderr %q; want %d and a permission-denied line", code, errs, exitDenied)
	}
}
