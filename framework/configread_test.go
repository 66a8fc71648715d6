package framework

import (
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"permd/aosp/etc"
	"permd/aosp/wait"
)

// hostile makes a config file that must never be read whole: a symlink
// to /dev/zero, a named pipe with no writer, a symlink to a file over the
// size cap (sparse, so it costs no disk).
var hostile = []struct {
	name string
	make func(t *testing.T, path string)
	says string
}{
	{"symlink to /dev/zero", func(t *testing.T, path string) {
		if err := os.Symlink("/dev/zero", path); err != nil {
			t.Fatal(err)
		}
	}, "not a regular file (character device)"},
	{"named pipe", func(t *testing.T, path string) {
		if err := syscall.Mkfifo(path, 0o644); err != nil {
			t.Fatal(err)
		}
	}, "not a regular file (named pipe)"},
	{"symlink to a 64 MiB file", func(t *testing.T, path string) {
		big := filepath.Join(t.TempDir(), "big.json")
		f, err := os.Create(big)
		if err != nil {
			t.Fatal(err)
		}
		f.Truncate(64 << 20)
		f.Close()
		if err := os.Symlink(big, path); err != nil {
			t.Fatal(err)
		}
	}, "the limit is 1048576"},
	{"64 MiB file", func(t *testing.T, path string) {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		f.Truncate(64 << 20)
		f.Close()
	}, "the limit is 1048576"},
}

// TestHostileConfigFileAtStart: each hostile file in the config dir makes
// start fail at once with an error naming the file and the problem,
// instead of hanging or reading without end.
func TestHostileConfigFileAtStart(t *testing.T) {
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "config")
			os.MkdirAll(cfg, 0o755)
			os.WriteFile(filepath.Join(cfg, MainFile), []byte(testRolesJSON), 0o644)
			h.make(t, filepath.Join(cfg, RulesFile))
			done := make(chan error, 1)
			go func() {
				svc, err := New(Options{DataDir: filepath.Join(dir, "data"), ConfigDir: cfg, SocketPath: filepath.Join(dir, "s"),
					Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
				if err == nil {
					svc.lock.release()
					svc.db.Close()
				}
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), RulesFile) || !strings.Contains(err.Error(), h.says) {
					t.Fatalf("start with a hostile %s: %v; want an error naming %s and saying %q", RulesFile, err, RulesFile, h.says)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("start blocked on a hostile config file")
			}
		})
	}
}

// TestHostileConfigFileAtReload: a hostile file appearing in the config
// dir is refused with a log line naming it, the config in force stays,
// and the watcher stays alive: an edit made after each refusal is
// applied.
func TestHostileConfigFileAtReload(t *testing.T) {
	ts := startTestService(t, testOptions{})
	role := func() Role {
		var h Health
		if err := ts.call(t, "sys.health", nil, &h); err != nil {
			t.Fatal(err)
		}
		return h.You.Role
	}
	var rejects uint64
	for i, h := range hostile {
		name := []string{RulesFile, "indicator.json", "grants.json", "process.json"}[i]
		h.make(t, filepath.Join(ts.configDir, name))
		wait.Until(t, "refusal of "+name, func() bool {
			return strings.Contains(ts.logs.String(), "config file refused") && strings.Contains(ts.logs.String(), "file="+name)
		})
		if !strings.Contains(ts.logs.String(), h.says) {
			t.Errorf("%s: the log does not say %q", h.name, h.says)
		}
		var hl Health
		ts.call(t, "sys.health", nil, &hl)
		if hl.ConfigRejects <= rejects {
			t.Errorf("%s: config_rejects %d, want more than %d", h.name, hl.ConfigRejects, rejects)
		}
		rejects = hl.ConfigRejects

		// The canary: flip uid 0's role and wait for the watcher to apply it.
		want, body := RoleShell, strings.Replace(testRolesJSON, `"role": "root"`, `"role": "shell"`, 1)
		if i%2 == 1 {
			want, body = RoleRoot, testRolesJSON
		}
		ts.writeConfig(t, MainFile, body)
		wait.Until(t, "canary edit after the refused "+h.name, func() bool { return role() == want })
	}
	var h Health
	if err := ts.call(t, "sys.health", nil, &h); err != nil || h.Status != "ok" {
		t.Fatalf("daemon after hostile config files: %v %+v", err, h)
	}
}

// readSnapshot reads a whole config dir as the daemon does at start.
func readSnapshot(fsys fs.FS, label string) (*Snapshot, error) {
	snap, _, err := readSnapshotKeeping(fsys, label, nil)
	return snap, err
}

// shippedSnapshot reads the config shipped on devices (embedded for host
// runs) and fails the test unless it holds file ("" for none).
func shippedSnapshot(t *testing.T, file string) *Snapshot {
	t.Helper()
	snap, err := readSnapshot(etc.Default(), "embedded")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := snap.File(file); file != "" && !ok {
		t.Fatalf("the shipped config has no %s", file)
	}
	return snap
}
