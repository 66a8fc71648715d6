package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"permd/aosp/etc"
	"permd/framework"
)

// demoExamples are the commands the demo banner prints and README.md
// lists, one per line, each working when pasted into a shell at the
// repository's top, as root or as a normal user: TestReadmeListsDemoExamples
// keeps the two lists equal and TestDemoExamplesAsNormalUser runs them as
// uid 1001.
const demoExamples = `./bin/permctl status
./bin/permctl catalogue --lang zh-CN
./bin/permctl grant org.example.host.user location --while-in-use --precision 3km --max 10/hour
./bin/permctl grants
./bin/permctl call perm.check '{"uid":'$(id -u)',"package":"org.example.host.user","category":"location"}'
./bin/permctl call loc.fudge '{"uid":'$(id -u)',"package":"org.example.host.user","lat":39.9087,"lon":116.3975}'
use=$(./bin/permctl call op.start '{"resource":"camera","uid":10124,"package":"com.example.chat"}' | sed -n 's/.*"use": \([0-9]*\).*/\1/p')
./bin/permctl indicators
./bin/permctl call op.finish '{"use":'$use'}'
./bin/permctl ledger --since 1h
./bin/permctl ledger verify
./bin/permctl procs --apps
./bin/permctl rules --lang zh-CN
`

// demoDefaults is the demo's default config: the embedded defaults plus
// its identity source (process.json host_packages: the user running the
// demo is the app org.example.host.user, and two demo apps without
// processes) and, for a user other than root, the root role for that
// uid (permd.json), so every example works without sudo. Only the demo
// does this; a device's permd.json never names a user uid.
func demoDefaults(uid int) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := fs.WalkDir(etc.Default(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(etc.Default(), p)
		out[p] = b
		return err
	})
	if err != nil {
		return nil, err
	}
	edit := func(name string, f func(cfg map[string]any)) error {
		cfg := map[string]any{}
		if b, ok := out[name]; ok {
			if err := json.Unmarshal(b, &cfg); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		f(cfg)
		b, err := json.MarshalIndent(cfg, "", "  ")
		out[name] = append(b, '\n')
		return err
	}
	if err := edit("process.json", func(cfg map[string]any) {
		cfg["host_packages"] = map[string][]string{
			strconv.Itoa(uid): {"org.example.host.user"},
			"10123":           {"com.example.maps"},
			"10124":           {"com.example.chat"},
		}
	}); err != nil {
		return nil, err
	}
	if uid != 0 {
		if err := edit(framework.MainFile, func(cfg map[string]any) {
			roles, _ := cfg["roles"].([]any)
			cfg["roles"] = append([]any{map[string]any{"uid": uid, "role": "root"}}, roles...)
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// refreshDemoConfig brings DIR/config up to date with the demo defaults
// and keeps the user's edits: DIR/config.defaults holds the defaults the
// config was last made from. A file the user has not edited follows the
// defaults; an edited file stays as it is, and when its default changed
// the banner says where the new default is, so the user can merge.
func refreshDemoConfig(dir string, uid int, stdout io.Writer) error {
	defaults, err := demoDefaults(uid)
	if err != nil {
		return err
	}
	cfgDir := filepath.Join(dir, "config")
	pristine := filepath.Join(dir, "config.defaults")
	names := make([]string, 0, len(defaults))
	for n := range defaults {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		def := defaults[n]
		user, uerr := os.ReadFile(filepath.Join(cfgDir, n))
		old, oerr := os.ReadFile(filepath.Join(pristine, n))
		switch {
		case errors.Is(uerr, os.ErrNotExist):
			if err := writeFile(filepath.Join(cfgDir, n), def); err != nil {
				return err
			}
		case uerr != nil:
			return fmt.Errorf("demo config: %w", uerr)
		case bytes.Equal(user, def):
		case oerr == nil && bytes.Equal(user, old):
			if err := writeFile(filepath.Join(cfgDir, n), def); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "config: %s follows the new default\n", n)
		case oerr != nil || !bytes.Equal(old, def):
			fmt.Fprintf(stdout, "config: %s keeps your edits; the new default is %s (diff them to merge)\n",
				filepath.Join(cfgDir, n), filepath.Join(pristine, n))
		}
		if err := writeFile(filepath.Join(pristine, n), def); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(p string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	return nil
}
