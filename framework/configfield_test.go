package framework

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"permd/aosp/etc"
)

// TestConfigErrorsNameFieldsAsWritten starts the daemon on config dirs
// with one bad value each and checks the error: the file, the field as
// the file writes it (limits.idle_timeout, never idle_timeout_ms), and
// one text for a duration that is not one, whatever file it is in.
func TestConfigErrorsNameFieldsAsWritten(t *testing.T) {
	rules, err := fs.ReadFile(etc.Default(), RulesFile)
	if err != nil {
		t.Fatal(err)
	}
	withRules := func(key string, v any) string {
		var m map[string]any
		if err := json.Unmarshal(rules, &m); err != nil {
			t.Fatal(err)
		}
		m[key] = v
		b, _ := json.Marshal(m)
		return string(b)
	}
	mainWith := func(limits string) string {
		return `{"version": 1, "roles": [{"uid": 0, "role": "root"}], "limits": {` + limits + `}}`
	}
	const notADuration = `"soon" is not a duration: write a number and a unit, such as "300ms", "60s", "5m" or "2h"`
	for _, tc := range []struct {
		name, file, body   string
		wantField, wantMsg string
	}{
		{"idle timeout too short", MainFile, mainWith(`"idle_timeout": "1ms"`), "limits.idle_timeout", "1ms is outside 100ms..24h0m0s"},
		{"write timeout too long", MainFile, mainWith(`"write_timeout": "2h"`), "limits.write_timeout", "2h0m0s is outside 10ms..1h0m0s"},
		{"idle timeout not a duration", MainFile, mainWith(`"idle_timeout": "soon"`), "limits.idle_timeout", notADuration},
		{"idle timeout a bare number", MainFile, mainWith(`"idle_timeout": 300`), "limits.idle_timeout", `expected a duration string such as "60s", got 300`},
		{"a count of the wrong type", MainFile, mainWith(`"max_batch": "many"`), "limits.max_batch", `expected an integer, got JSON string`},
		{"process poll interval", ProcessFile, `{"poll_interval": "soon"}`, "poll_interval", notADuration},
		{"indicator hold", IndicatorFile, `{"version": 1, "hold": "soon"}`, "hold", notADuration},
		{"grants once grace", GrantsFile, `{"version": 1, "once_grace": "soon"}`, "once_grace", notADuration},
		{"rules coalesce window", RulesFile, withRules("coalesce_window", "soon"), "coalesce_window", notADuration},
		{"rules commit delay a number", RulesFile, withRules("commit_delay", 5), "commit_delay", `expected a duration string such as "60s", got 5`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "config")
			os.MkdirAll(cfg, 0o755)
			os.WriteFile(filepath.Join(cfg, MainFile), []byte(testRolesJSON), 0o644)
			if err := os.WriteFile(filepath.Join(cfg, tc.file), []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			svc, err := New(Options{Root: dir, DataDir: filepath.Join(dir, "data"), ConfigDir: cfg, SocketPath: filepath.Join(dir, "s"),
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err == nil {
				svc.lock.release()
				svc.db.Close()
				t.Fatalf("start with %s %s: no error; want %s: %s", tc.file, tc.body, tc.wantField, tc.wantMsg)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("start with %s %s: %v; want a *ConfigError", tc.file, tc.body, err)
			}
			if ce.File != tc.file || ce.Field != tc.wantField || ce.Problem != tc.wantMsg {
				t.Errorf("config error:\n got file %q field %q problem %q\nwant file %q field %q problem %q", ce.File, ce.Field, ce.Problem, tc.file, tc.wantField, tc.wantMsg)
			}
		})
	}
}
