package framework

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"permd/aosp/etc"
	"permd/ledger"
)

// MainFile is the daemon's own config file inside the config dir (roles
// and limits). Other parts read their own files next to it (rules.json,
// grants.json, preinstall/*.json, ...).
const MainFile = "permd.json"

// maxConfigFile bounds every config file we read (change it here to build
// a permd with another cap): config is small, and a runaway file (a
// symlink to /dev/zero, a log written into the dir) must not exhaust
// memory.
const maxConfigFile = 1 << 20

// Snapshot is the config dir read at one moment: every regular file up to
// one directory deep, by slash-separated relative path. Parts validate
// their own share of it; nothing is applied until all of them accept it.
type Snapshot struct {
	Dir   string
	Files map[string][]byte
}

// File returns the contents of a file in the snapshot.
func (s *Snapshot) File(rel string) ([]byte, bool) {
	b, ok := s.Files[rel]
	return b, ok
}

// Under lists the files directly under dir (e.g. "preinstall"), sorted.
func (s *Snapshot) Under(dir string) []string {
	var out []string
	for name := range s.Files {
		if path.Dir(name) == dir {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// equal reports whether two snapshots hold the same bytes, so that a
// reload caused by an editor touching a file without changing it is a
// no-op.
func (s *Snapshot) equal(o *Snapshot) bool {
	if s == nil || o == nil || len(s.Files) != len(o.Files) {
		return false
	}
	for k, v := range s.Files {
		if w, ok := o.Files[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

// ConfigError says which file and field of the config is wrong and why.
type ConfigError struct {
	File    string
	Field   string
	Problem string
}

func (e *ConfigError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("config %s: %s", e.File, e.Problem)
	}
	return fmt.Sprintf("config %s: field %s: %s", e.File, e.Field, e.Problem)
}

// readSnapshotKeeping reads a snapshot. A file refused as unsafe (not a
// regular file, over the cap, too slow) fails the read when there is no
// previous snapshot (at start); on a reload the file keeps its content
// from prev (or stays absent) and the refusal is returned in skipped, so
// that one hostile file neither replaces the config in force nor blocks
// every later edit of the other files.
func readSnapshotKeeping(fsys fs.FS, label string, prev *Snapshot) (*Snapshot, []*ConfigError, error) {
	var skipped []*ConfigError
	snap := &Snapshot{Dir: label, Files: map[string][]byte{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		depth := strings.Count(p, "/")
		if d.IsDir() {
			if p != "." && depth >= 1 {
				return fs.SkipDir
			}
			return nil
		}
		// Editors leave swap and backup files; atomic saves leave temp
		// files. Only settled JSON files count.
		if !strings.HasSuffix(p, ".json") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().IsRegular() && info.Size() > maxConfigFile {
			err = fmt.Errorf("%w: file is %d bytes, the limit is %d", errUnsafeFile, info.Size(), maxConfigFile)
		}
		var b []byte
		if err == nil {
			b, err = fs.ReadFile(fsys, p)
		}
		if errors.Is(err, errUnsafeFile) && prev != nil {
			skipped = append(skipped, &ConfigError{File: p, Problem: err.Error()})
			if old, ok := prev.Files[p]; ok {
				snap.Files[p] = old
			}
			return nil
		}
		if err != nil {
			return &ConfigError{File: p, Problem: err.Error()}
		}
		snap.Files[p] = b
		return nil
	})
	if err != nil {
		return nil, skipped, err
	}
	main, ok := snap.Files[MainFile]
	if !ok {
		return nil, skipped, &ConfigError{File: MainFile, Problem: "missing"}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(main, &obj); err != nil {
		return nil, skipped, &ConfigError{File: MainFile, Problem: "not a JSON object: " + err.Error()}
	}
	return snap, skipped, nil
}

// Duration is a config duration ("5s"); see etc.Duration.
type Duration = etc.Duration

// The config pattern: each package owns its file's shape (a File type)
// and its validation (a Compile function returning *etc.FieldError),
// and framework decodes the JSON strictly, in one place, so that every
// file names a bad field the same way (decodeFile, with the wire-path
// naming the request params share), and turns the field error into a
// ConfigError in one place (configError). permd.json is framework's own
// file; rules.json the ledger parses whole (ledger.ParseRules).

// partConfig reads file from snap into the package's File type F and
// validates it with the package's compile; an absent file is compile(nil)
// (the package's defaults).
func partConfig[F, C any](snap *Snapshot, file string, compile func(*F) (C, error)) (C, error) {
	var f *F
	if raw, ok := snap.File(file); ok {
		f = new(F)
		if err := decodeFile(raw, f); err != nil {
			var zero C
			return zero, configError(file, err)
		}
	}
	c, err := compile(f)
	if err != nil {
		return c, configError(file, err)
	}
	return c, nil
}

// configError is the one place where a part's error about its file
// becomes a ConfigError naming the file.
func configError(file string, err error) error {
	var ce *ConfigError
	var fe *etc.FieldError
	var re *ledger.RulesError // the ledger's own error, of the same shape
	switch {
	case errors.As(err, &ce):
		return ce
	case errors.As(err, &fe):
		return &ConfigError{File: file, Field: fe.Field, Problem: fe.Problem}
	case errors.As(err, &re):
		return &ConfigError{File: file, Field: re.Field, Problem: re.Problem}
	}
	return &ConfigError{File: file, Problem: err.Error()}
}

// decodeFile decodes a config file's JSON strictly into v: an unknown
// field is refused, and a bad field is named as the file writes it.
func decodeFile(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		pe := paramsError(err, raw, v)
		field := ""
		if f, ok := pe.Data.(map[string]string); ok && f["field"] != "params" {
			field = f["field"]
		}
		msg := pe.Message
		if i := strings.Index(msg, ": "); i >= 0 {
			msg = msg[i+2:]
		}
		return &etc.FieldError{Field: field, Problem: msg}
	}
	return nil
}

// dirFS is the config dir, read only through safeDirFS.
func dirFS(dir string) fs.FS {
	dir = filepath.Clean(dir)
	return safeDirFS{dir: dir, root: os.DirFS(dir)}
}
