package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"permd/framework/frameworktest"
)

// TestGlobalFlagsAnywhere: a global flag means the same before the
// command, after it, and after the command's own arguments.
func TestGlobalFlagsAnywhere(t *testing.T) {
	d := frameworktest.Start(t, frameworktest.Options{})
	if code, _, errs := permctl(t, d.Socket, "grant", "com.example.maps", "location", "--while-in-use"); code != exitOK {
		t.Fatalf("grant: %d %s", code, errs)
	}
	for _, pair := range [][2][]string{
		{{"--json", "grants"}, {"grants", "--json"}},
		{{"--json", "grants", "--package", "com.example.maps"}, {"grants", "--package", "com.example.maps", "--json"}},
		{{"--lang", "zh-CN", "catalogue"}, {"catalogue", "--lang=zh-CN"}},
		{{"--json", "ledger", "verify"}, {"ledger", "verify", "--json"}},
		{{"-json", "indicators"}, {"indicators", "-json=true"}},
	} {
		c1, o1, e1 := permctl(t, d.Socket, pair[0]...)
		c2, o2, e2 := permctl(t, d.Socket, pair[1]...)
		if c1 != exitOK || c1 != c2 || o1 != o2 {
			t.Errorf("permctl %v and permctl %v differ:\n%d %s%s\n---\n%d %s%s", pair[0], pair[1], c1, o1, e1, c2, o2, e2)
		}
	}
	other := filepath.Join(t.TempDir(), "none.sock")
	for _, args := range [][]string{
		{"--socket", other, "status"},
		{"status", "--socket", other},
		{"status", "--socket=" + other},
	} {
		if code, _, errs := permctl(t, d.Socket, args...); code != exitNoDaemon || !strings.Contains(errs, other) {
			t.Errorf("permctl %v: code %d %q; want the socket flag honoured (exit 3 naming %s)", args, code, errs, other)
		}
	}
	// After "--" nothing is a flag.
	if code, _, errs := permctl(t, d.Socket, "call", "--", "--json"); code != exitRPCFailure || !strings.Contains(errs, `no method "--json"`) {
		t.Errorf("call -- --json: code %d %q", code, errs)
	}
	if code, _, errs := permctl(t, d.Socket, "status", "--socket"); code != exitUsage || !strings.Contains(errs, "--socket needs a value") {
		t.Errorf("--socket without value: code %d %q", code, errs)
	}
}

// TestHelpOnStdout: every way of asking for help prints on stdout and
// exits 0; each subcommand lists its own flags as they are typed.
func TestHelpOnStdout(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock")
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		code, out, errs := permctl(t, sock, args...)
		if code != exitOK || errs != "" || !strings.Contains(out, "commands:") || !strings.Contains(out, "  ledger") || !strings.Contains(out, "--json") {
			t.Errorf("permctl %v: code %d\nstdout: %s\nstderr: %s", args, code, out, errs)
		}
	}
	for name := range commands {
		for _, args := range [][]string{{"help", name}, {name, "-h"}, {name, "--help"}} {
			code, out, errs := permctl(t, sock, args...)
			if code != exitOK || errs != "" || !strings.HasPrefix(out, "usage: permctl "+name) || !strings.Contains(out, "global flags") {
				t.Errorf("permctl %v: code %d\nstdout: %s\nstderr: %s", args, code, out, errs)
			}
			if strings.Contains(out, "\n  -") && !strings.Contains(out, "\n  --") {
				t.Errorf("permctl %v lists flags with one dash:\n%s", args, out)
			}
		}
	}
	for _, tc := range []struct {
		args []string
		want []string
		not  []string
	}{
		{[]string{"grant", "-h"}, []string{"--always ", "--while-in-use ", "--max STRING", "--precision "}, []string{" -always"}},
		{[]string{"ledger", "summary", "-h"}, []string{"usage: permctl ledger summary", "--since STRING", "--category STRING", "--db STRING"}, []string{"--limit", "--bucket"}},
		{[]string{"ledger", "query", "-h"}, []string{"--limit INT", "--ndjson"}, []string{"--bucket"}},
		{[]string{"ledger", "timeline", "-h"}, []string{"--bucket STRING"}, []string{"--limit"}},
		{[]string{"ledger", "-h"}, []string{"subcommands:", "summary", "verify"}, nil},
	} {
		code, out, _ := permctl(t, sock, tc.args...)
		if code != exitOK {
			t.Errorf("%v: code %d", tc.args, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%v: help lacks %q:\n%s", tc.args, w, out)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(out, w) {
				t.Errorf("%v: help shows %q, which this subcommand does not take:\n%s", tc.args, w, out)
			}
		}
	}
	code, out, _ := permctl(t, sock, "--version")
	if code != exitOK || out != "permctl "+version+"\n" {
		t.Errorf("--version: %d %q", code, out)
	}
}

// TestDidYouMean: mistyped commands, subcommands, flags, methods and
// categories get one usage line with the closest name.
func TestDidYouMean(t *testing.T) {
	d := frameworktest.Start(t, frameworktest.Options{})
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"grnats"}, `unknown command "grnats" (did you mean grants?)`},
		{[]string{"stat"}, "did you mean status?"},
		{[]string{"ledger", "sumary"}, `unknown ledger subcommand "sumary" (did you mean summary?)`},
		{[]string{"grant", "com.example.maps", "location", "--alway"}, "unknown flag --alway (did you mean --always?)"},
		{[]string{"grants", "--pakage", "x"}, "did you mean --package?"},
		{[]string{"call", "grants.lsit"}, "did you mean grants.list?"},
		{[]string{"grant", "com.example.maps", "locaton", "--once"}, "did you mean location?"},
		{[]string{"--jsn", "status"}, "did you mean json?"},
	} {
		code, out, errs := permctl(t, d.Socket, tc.args...)
		want := exitUsage
		if tc.args[0] == "call" {
			want = exitRPCFailure // call keeps JSON-RPC's codes
		}
		if code != want || !strings.Contains(errs, tc.msg) || out != "" || strings.Count(errs, "\n") != 1 {
			t.Errorf("permctl %v: code %d stdout %q stderr %q; want exit %d and one line containing %q", tc.args, code, out, errs, want, tc.msg)
		}
	}
}

// TestSocketNotASocket: a directory or a regular file given as the
// socket is named as such.
func TestSocketNotASocket(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	for path, what := range map[string]string{dir: "is a directory, not a socket", file: "is a regular file, not a socket"} {
		code, _, errs := permctl(t, path, "status")
		if code != exitNoDaemon || !strings.Contains(errs, what) {
			t.Errorf("socket %s: code %d %q; want 3 and %q", path, code, errs, what)
		}
	}
}

func TestParseSpanAndWhen(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30s": 30 * time.Second, "10m": 10 * time.Minute, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour,
		"1w": 7 * 24 * time.Hour, "1w2d": 9 * 24 * time.Hour, "1d12h": 36 * time.Hour, "1h30m": 90 * time.Minute,
	} {
		if got, err := parseSpan(in); err != nil || got != want {
			t.Errorf("parseSpan(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "7", "7x", "yesterday", "2026-12-01", "1d2"} {
		if d, err := parseSpan(bad); err == nil {
			t.Errorf("parseSpan(%q) = %v, want an error", bad, d)
		}
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.Local)
	for _, tc := range []struct {
		in            string
		end, ahead    bool
		want          time.Time
		noteMentioned bool
	}{
		{"7d", false, false, now.Add(-7 * 24 * time.Hour), false},
		{"1w", false, true, now.Add(7 * 24 * time.Hour), false},
		{"2026-12-01", false, false, time.Date(2026, 12, 1, 0, 0, 0, 0, time.Local), false},
		{"2026-12-01", true, false, time.Date(2026, 12, 2, 0, 0, 0, 0, time.Local), true},
		{"2026-12-01T09:00:00+08:00", true, false, time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC), false},
	} {
		w, err := parseWhen(tc.in, now, tc.end, tc.ahead)
		if err != nil || !w.t.Equal(tc.want) || (w.note != "") != tc.noteMentioned {
			t.Errorf("parseWhen(%q, end=%v, ahead=%v) = %v %q %v; want %v", tc.in, tc.end, tc.ahead, w.t, w.note, err, tc.want)
		}
	}
	if _, err := parseWhen("yesterday", now, false, false); err == nil || !strings.Contains(err.Error(), "7d") {
		t.Errorf("parseWhen(yesterday): %v, want an error listing the forms", err)
	}
}

// TestUntilDateSaysEndOfDay: --until DATE is the end of that day, and
// permctl says so.
func TestUntilDateSaysEndOfDay(t *testing.T) {
	d := frameworktest.Start(t, frameworktest.Options{})
	code, _, errs := permctl(t, d.Socket, "ledger", "--until", "2030-01-01")
	if code != exitOK || !strings.Contains(errs, "2030-01-01 means until the end of that day: 2030-01-02 00:00:00") {
		t.Errorf("ledger --until DATE: %d %q", code, errs)
	}
	code, out, errs := permctl(t, d.Socket, "grant", "com.example.maps", "location", "--until", "2030-01-01")
	if code != exitOK || !strings.Contains(errs, "end of that day") || !strings.Contains(out, "until 2030-01-02 00:00") {
		t.Errorf("grant --until DATE: %d %q %q", code, out, errs)
	}
}

func TestDisplayWidthAndCut(t *testing.T) {
	for s, w := range map[string]int{"abc": 3, "位置信息": 8, "相机 camera": 11, "ｆｕｌｌ": 8, "e\u0301": 1, "": 0, "한국": 4} {
		if got := displayWidth(s); got != w {
			t.Errorf("displayWidth(%q) = %d, want %d", s, got, w)
		}
	}
	if got := cut("位置信息位置信息", 9); got != "位置信..." || displayWidth(got) > 9 {
		t.Errorf("cut CJK to 9 = %q", got)
	}
	var b bytes.Buffer
	tw := newTable(&b, 30, 2)
	tw.row("A", "相机", "a long free text column that does not fit")
	tw.row("BBB", "x", "short")
	tw.flush()
	want := "A    相机  a long free text...\nBBB  x     short\n"
	if b.String() != want {
		t.Errorf("table:\n%q\nwant\n%q", b.String(), want)
	}
}

func TestNormLang(t *testing.T) {
	for in, want := range map[string]string{"zh_CN.UTF-8": "zh-CN", "zh-CN": "zh-CN", "zh": "zh-CN", "en_US.UTF-8": "en", "C": "en", "C.UTF-8": "en", "en": "en"} {
		if got, ok := normLang(in); !ok || got != want {
			t.Errorf("normLang(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	if _, ok := normLang("fr_FR"); ok {
		t.Error("normLang(fr_FR) accepted")
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if l := langFromEnv(env(map[string]string{"LANG": "zh_CN.UTF-8"})); l != "zh-CN" {
		t.Errorf("LANG=zh_CN.UTF-8: %s", l)
	}
	if l := langFromEnv(env(map[string]string{"LANG": "zh_CN.UTF-8", "LC_ALL": "C"})); l != "en" {
		t.Errorf("LC_ALL=C overrides LANG: %s", l)
	}
	// The environment picks the language of a real run.
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"help"}, &out, &errb, env(map[string]string{"LANG": "zh_CN.UTF-8", "PERMD_SOCKET": "/nonexistent"}))
	if code != exitOK {
		t.Fatalf("help: %d", code)
	}
}

func TestRejectedText(t *testing.T) {
	in := `category: unknown category "camra" (known: [calendar camera location])`
	want := `category: unknown category "camra" (did you mean camera? known: calendar, camera, location)`
	if got := rejectedText(in); got != want {
		t.Errorf("rejectedText:\n got %s\nwant %s", got, want)
	}
	if got := rejectedText(`level: "x" is not one of [a b]`); got != `level: "x" is not one of a, b` {
		t.Errorf("rejectedText list: %s", got)
	}
}

// TestKnownMethodsDocumented: the suggestion list names only methods
// docs/protocol.md documents.
func TestKnownMethodsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range knownMethods {
		if !strings.Contains(string(doc), "### "+m+" ") {
			t.Errorf("knownMethods has %s, which docs/protocol.md does not document", m)
		}
	}
}

// TestAndroidNames: permissions and app-ops as pm grant and cmd appops
// users type them resolve to permd's categories.
func TestAndroidNames(t *testing.T) {
	d := frameworktest.Start(t, frameworktest.Options{})
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"grant", "com.example.maps", "android.permission.ACCESS_FINE_LOCATION", "--while-in-use"}, exitOK, "granted com.example.maps location: while_in_use"},
		{[]string{"grant", "com.example.maps", "android:camera", "--once"}, exitOK, "granted com.example.maps camera: once"},
		{[]string{"grant", "com.example.maps", "READ_CONTACTS", "--once"}, exitOK, "granted com.example.maps contacts"},
		{[]string{"grants", "--category", "android:fine_location"}, exitOK, "location"},
		{[]string{"revoke", "com.example.maps", "android.permission.CAMERA"}, exitOK, "revoked com.example.maps camera"},
		{[]string{"ledger", "--category", "android.permission.RECORD_AUDIO"}, exitOK, "TIME"},
		{[]string{"grant", "com.example.maps", "android.permission.ACCESS_FINE_LOCATON", "--once"}, exitUsage, "did you mean android.permission.ACCESS_FINE_LOCATION?"},
		{[]string{"grant", "com.example.maps", "android.permission.INTERNET", "--once"}, exitUsage, "not a permission or app-op permd mediates"},
	} {
		expectRun(t, d.Socket, tc.args, tc.code, tc.want)
	}
	_, out, _ := permctl(t, d.Socket, "grants", "--category", "android:fine_location")
	if strings.Contains(out, "contacts") {
		t.Errorf("grants --category android:fine_location shows other categories:\n%s", out)
	}
}

// TestChineseLabelsComplete: every word and sentence the commands print
// through e.heads and e.msg has its Chinese.
func TestChineseLabelsComplete(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	call := regexp.MustCompile(`e\.(heads|msg)\(([^()]*)`)
	lit := regexp.MustCompile(`"([^"]+)"`)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, _ := os.ReadFile(f)
		for _, m := range call.FindAllStringSubmatch(string(src), -1) {
			keys := lit.FindAllStringSubmatch(m[2], -1)
			if m[1] == "msg" && len(keys) > 1 {
				keys = keys[:1] // the rest are arguments
			}
			for _, k := range keys {
				n++
				if _, ok := zhCN[k[1]]; !ok {
					t.Errorf("%s: %q has no zh-CN text in i18n.go", f, k[1])
				}
			}
		}
	}
	if n < 50 {
		t.Errorf("found only %d labels: the scan is broken", n)
	}
	for k := range enSentences {
		if _, ok := zhCN[k]; !ok {
			t.Errorf("sentence %q has no zh-CN text", k)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 1234: "1,234", 10000000: "10,000,000", -1234567: "-1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
