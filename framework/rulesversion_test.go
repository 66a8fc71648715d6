package framework

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"permd/aosp/etc"
	"permd/aosp/wait"
	"permd/framework/frameworktest/harness"
)

// TestRulesVersionImmutable: rules.json changed without a new version is
// refused at reload and at start naming the field, rules.get serves for
// each version exactly what was stored, a new version is accepted, and a
// version that drops a kind Art. 32 requires is refused.
func TestRulesVersionImmutable(t *testing.T) {
	raw, err := fs.ReadFile(etc.Default(), RulesFile)
	if err != nil {
		t.Fatal(err)
	}
	// v1 is the shipped file (whatever its version n), v2 its successor.
	v1 := string(raw)
	var shipped struct{ Version int }
	if err := json.Unmarshal(raw, &shipped); err != nil {
		t.Fatal(err)
	}
	n := shipped.Version
	v1changed := strings.Replace(v1, `"retention_days": 30,`, `"retention_days": 29,`, 1)
	v2 := strings.Replace(v1changed, fmt.Sprintf(`"version": %d`, n), fmt.Sprintf(`"version": %d`, n+1), 1)
	if v1changed == v1 || v2 == v1changed {
		t.Fatal("test edits do not apply to rules.json")
	}
	data := filepath.Join(harness.TempDir(t), "data")
	ts := startTestService(t, testOptions{Data: data, Config: map[string]string{RulesFile: v1}})
	rec := map[string]any{"uid": 10123, "kind": "access", "category": "camera", "result": "allowed", "app_state": "foreground"}
	if err := ts.call(t, "ledger.report", map[string]any{"records": []any{rec}}, nil); err != nil {
		t.Fatal(err)
	}
	rulesGet := func(ts *testService, v int) string {
		t.Helper()
		var got json.RawMessage
		if err := ts.call(t, "rules.get", map[string]int{"version": v}, &got); err != nil {
			t.Fatalf("rules.get %d: %v", v, err)
		}
		return string(got) // compacted on the wire: compare with sameJSON
	}

	ts.writeConfig(t, RulesFile, v1changed)
	wait.Until(t, "refusal of changed rules under the same version", func() bool {
		return strings.Contains(ts.logs.String(), "config rejected") && strings.Contains(ts.logs.String(), "field=version")
	})
	if got := rulesGet(ts, n); !sameJSON([]byte(got), []byte(v1)) {
		t.Errorf("rules.get {version: n} after the refused edit is not what version 1 was published as")
	}
	ts.stop(t)

	// At start: the stored version 1 differs from the file's.
	cfg := filepath.Join(t.TempDir(), "config")
	os.MkdirAll(cfg, 0o755)
	os.WriteFile(filepath.Join(cfg, MainFile), []byte(testRolesJSON), 0o644)
	os.WriteFile(filepath.Join(cfg, RulesFile), []byte(v1changed), 0o644)
	svc, err := New(Options{DataDir: data, ConfigDir: cfg, SocketPath: filepath.Join(t.TempDir(), "s"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil {
		svc.lock.release()
		svc.db.Close()
		t.Fatal("start with rules changed under a published version succeeded")
	}
	if !strings.Contains(err.Error(), "field version") || !strings.Contains(err.Error(), fmt.Sprintf("version %d was already published", n)) {
		t.Errorf("start refusal does not name the field and the version: %v", err)
	}

	// A new version is accepted; each version serves what it was.
	ts2 := startTestService(t, testOptions{Data: data, Config: map[string]string{RulesFile: v2}})
	if err := ts2.call(t, "ledger.report", map[string]any{"records": []any{rec}}, nil); err != nil {
		t.Fatal(err)
	}
	if got := rulesGet(ts2, n); !sameJSON([]byte(got), []byte(v1)) {
		t.Error("rules.get {version: n} changed after version n+1 came into force")
	}
	if got := rulesGet(ts2, n+1); !sameJSON([]byte(got), []byte(v2)) {
		t.Error("rules.get {version: n+1} is not the file in force")
	}

	// Version 3 without the access kind: refused at reload.
	var m map[string]any
	json.Unmarshal([]byte(v2), &m)
	m["version"] = n + 2
	var kinds []any
	for _, k := range m["kinds"].([]any) {
		if k.(map[string]any)["code"] != "access" {
			kinds = append(kinds, k)
		}
	}
	m["kinds"] = kinds
	v3, _ := json.Marshal(m)
	ts2.writeConfig(t, RulesFile, string(v3))
	wait.Until(t, "refusal of rules without the access kind", func() bool {
		return strings.Contains(ts2.logs.String(), "field=kinds") && strings.Contains(ts2.logs.String(), "Art. 32")
	})
	var h Health
	ts2.call(t, "sys.health", map[string]bool{"detail": true}, &h)
	if v := h.Parts["ledger"].(map[string]any)["rules_version"]; v != float64(n+1) {
		t.Errorf("rules version in force after the refused version n+2: %v, want %d", v, n+1)
	}
}
