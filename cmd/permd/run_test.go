package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"permd/ledger/store"
)

func TestVersionNamesDriver(t *testing.T) {
	c, err := parseFlags([]string{"--version"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(t.Context(), c, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), store.Driver) {
		t.Fatalf("--version %q does not name the SQLite driver %q", out.String(), store.Driver)
	}
}

func TestFlagErrors(t *testing.T) {
	if _, err := parseFlags([]string{"stray"}, io.Discard); err == nil {
		t.Error("stray argument accepted")
	}
	if _, err := parseFlags([]string{"--log-level", "loud"}, io.Discard); err == nil {
		t.Error("bad log level accepted")
	}
}

func TestDemoLaysOutEditableConfig(t *testing.T) {
	dir := t.TempDir()
	c := config{demo: dir}
	var out bytes.Buffer
	if err := prepareDemo(&c, &out); err != nil {
		t.Fatal(err)
	}
	if c.socket != filepath.Join(dir, "permd.sock") || c.dataDir != filepath.Join(dir, "data") || c.root != "/" {
		t.Fatalf("demo paths: %+v", c)
	}
	p := filepath.Join(dir, "config", "permd.json")
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm()&0o200 == 0 {
		t.Fatalf("demo config %s not written or not editable: %v", p, err)
	}
	// The demo's identity source: demo apps and the running user.
	pj, _ := os.ReadFile(filepath.Join(dir, "config", "process.json"))
	for _, want := range []string{`"10123"`, "com.example.maps", `"10124"`, "com.example.chat", "org.example.host.user"} {
		if !strings.Contains(string(pj), want) {
			t.Errorf("demo process.json lacks %s:\n%s", want, pj)
		}
	}
	// A second run keeps the user's edits.
	os.WriteFile(p, []byte(`{"version":1}`), 0o644)
	if err := prepareDemo(&c, &out); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != `{"version":1}` {
		t.Fatal("demo overwrote an edited config")
	}
	if !strings.Contains(out.String(), "PERMD_SOCKET="+c.socket) {
		t.Errorf("demo banner lacks the socket: %s", out.String())
	}
}
