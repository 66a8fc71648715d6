package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"permd/framework/frameworktest"
	"permd/ledger/store"
)

func TestLedgerCommandsDaemonAndPulledDB(t *testing.T) {
	d := frameworktest.Start(t, frameworktest.Options{})
	report := `{"records":[
		{"uid":10123,"kind":"access","category":"location","op":"android:fine_location","result":"denied","app_state":"background"},
		{"uid":10124,"kind":"clipboard_read","category":"clipboard","result":"allowed","app_state":"foreground","detail":{"api":"getPrimaryClip"}}]}`
	if code, out, errs := permctl(t, d.Socket, "call", "ledger.report", report); code != exitOK {
		t.Fatalf("report: %d %s %s", code, out, errs)
	}
	db := filepath.Join(d.DataDir, store.FileName)
	for _, src := range [][]string{nil, {"--db", db}} {
		code, out, errs := permctl(t, d.Socket, append([]string{"ledger", "--category", "location"}, src...)...)
		if code != exitOK || !strings.Contains(out, "denied") || strings.Contains(out, "clipboard") {
			t.Errorf("ledger %v: want the location row only; code %d\n%s%s", src, code, out, errs)
		}
		code, out, errs = permctl(t, d.Socket, append([]string{"ledger", "export"}, src...)...)
		if errs != "permctl: exported 2 rows\n" {
			t.Errorf("ledger export %v: stderr %q, want the row count", src, errs)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		var ev map[string]any
		if code != exitOK || len(lines) != 2 || json.Unmarshal([]byte(lines[1]), &ev) != nil || ev["kind"] != "clipboard_read" {
			t.Errorf("ledger export %v: want 2 NDJSON lines, got code %d\n%s%s", src, code, out, errs)
		}
		code, out, errs = permctl(t, d.Socket, append([]string{"ledger", "summary", "--since", "1h"}, src...)...)
		if code != exitOK || !strings.Contains(out, "10123") || !strings.Contains(out, "100%") {
			t.Errorf("ledger summary %v: code %d\n%s%s", src, code, out, errs)
		}
		code, out, errs = permctl(t, d.Socket, append([]string{"ledger", "timeline", "--category", "clipboard"}, src...)...)
		if code != exitOK || !strings.Contains(out, "allowed=1") {
			t.Errorf("ledger timeline %v: code %d\n%s%s", src, code, out, errs)
		}
		code, out, errs = permctl(t, d.Socket, append([]string{"ledger", "verify"}, src...)...)
		if code != exitOK || !strings.Contains(out, "ok:") {
			t.Errorf("ledger verify %v: code %d\n%s%s", src, code, out, errs)
		}
	}
	if code, _, errs := permctl(t, d.Socket, "ledger", "--since", "yesterday"); code != exitUsage {
		t.Errorf("bad --since: want usage exit, got %d %s", code, errs)
	}
}

func TestRulesCommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rules"}, "permd recording rules"},
		{[]string{"rules", "--lang", "zh-CN", "--format", "markdown"}, "# permd 记录规则"},
		{[]string{"rules", "--format", "json"}, `"retention_days": 30`},
	} {
		// No daemon: falls back to the installed or built-in file.
		code, out, errs := permctl(t, filepath.Join(t.TempDir(), "none.sock"), tc.args...)
		if code != exitOK || !strings.Contains(out, tc.want) || !strings.Contains(errs, "not running") {
			t.Errorf("%v: want %q and a note on the source; code %d\n%s%s", tc.args, tc.want, code, out, errs)
		}
	}
	d := frameworktest.Start(t, frameworktest.Options{})
	code, out, errs := permctl(t, d.Socket, "rules", "--lang", "en")
	if code != exitOK || !strings.Contains(out, "Kept for: 30 days") || !strings.Contains(errs, "from permd") {
		t.Errorf("rules from daemon: code %d\n%s%s", code, out, errs)
	}
	if code, _, _ := permctl(t, d.Socket, "rules", "--lang", "fr"); code != exitUsage {
		t.Errorf("--lang fr: want usage exit, got %d", code)
	}
	_ = bytes.MinRead
}
