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

// TestReadmeListsDemoExamples: the README shows the banner's list.
func TestReadmeListsDemoExamples(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want := "```sh\nexport PERMD_SOCKET=$PWD/run/permd.sock\n" + demoExamples + "```\n"
	if !strings.Contains(string(readme), want) {
		t.Errorf("README.md does not list the demo banner's examples; want this block:\n%s", want)
	}
	var out bytes.Buffer
	c := config{demo: t.TempDir()}
	if err := prepareDemo(&c, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), indent(demoExamples, "  ")) {
		t.Errorf("banner lacks the examples:\n%s", out.String())
	}
}

// TestDemoConfigRefresh: files the user left alone follow new defaults;
// edited ones are kept and the banner names the new default.
func TestDemoConfigRefresh(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := refreshDemoConfig(dir, 1001, &out); err != nil {
		t.Fatal(err)
	}
	main, _ := os.ReadFile(filepath.Join(dir, "config", "permd.json"))
	if !strings.Contains(string(main), `"uid": 1001`) || !strings.Contains(string(main), `"role": "root"`) {
		t.Errorf("demo permd.json for uid 1001 gives it no role:\n%s", main)
	}
	// Pretend the defaults were older: the user's files match the old
	// defaults (rules.json untouched) or were edited (indicator.json).
	old := []byte(`{"version": 0}` + "\n")
	os.WriteFile(filepath.Join(dir, "config.defaults", "rules.json"), old, 0o644)
	os.WriteFile(filepath.Join(dir, "config", "rules.json"), old, 0o644)
	os.WriteFile(filepath.Join(dir, "config.defaults", "indicator.json"), old, 0o644)
	edited := []byte(`{"version": 1, "hold": "9s"}` + "\n")
	os.WriteFile(filepath.Join(dir, "config", "indicator.json"), edited, 0o644)
	out.Reset()
	if err := refreshDemoConfig(dir, 1001, &out); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "config", "rules.json")); bytes.Equal(b, old) {
		t.Error("an unedited config file did not follow the new default")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "config", "indicator.json")); !bytes.Equal(b, edited) {
		t.Error("an edited config file was overwritten")
	}
	if !strings.Contains(out.String(), "rules.json follows the new default") ||
		!strings.Contains(out.String(), "indicator.json keeps your edits; the new default is "+filepath.Join(dir, "config.defaults", "indicator.json")) {
		t.Errorf("refresh did not say what it did:\n%s", out.String())
	}
	// Nothing changed since: nothing to say.
	out.Reset()
	refreshDemoConfig(dir, 1001, &out)
	if out.Len() != 0 {
		t.Errorf("a refresh with no new defaults printed:\n%s", out.String())
	}
}
