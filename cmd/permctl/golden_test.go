package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"permd/aosp/wait"
	"permd/framework/frameworktest"
)

var update = flag.Bool("update", false, "rewrite cmd/permctl/testdata/*.golden from the current output")

// volatile are the parts of permctl's output that differ from run to
// run (clock, temp paths, toolchain, counters that follow the clock).
// Each is replaced by a placeholder of the same width where the width
// matters for alignment (dates and times in tables), else by a tag.
var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})"`), `"<rfc3339>"`},
	{regexp.MustCompile(`("[a-z_]*_ms"): ?[0-9]+`), `$1: <ms>`},
	{regexp.MustCompile(`"next": "[^"]+"`), `"next": "<cursor>"`},
	{regexp.MustCompile(`mattn/go-sqlite3|modernc\.org/sqlite`), "<sqlite driver>"},
	{regexp.MustCompile(`linux/(amd64|arm64|386|arm|riscv64)`), "<platform>"},
	{regexp.MustCompile(`"(uptime_ms|duration_ms)": [0-9]+`), `"$1": <ms>`},
	{regexp.MustCompile(`[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}`), "YYYY-MM-DD hh:mm:ss"},
	{regexp.MustCompile(`[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}`), "YYYY-MM-DD hh:mm"},
	{regexp.MustCompile(`\b[0-9]{2}:[0-9]{2}:[0-9]{2}\b`), "hh:mm:ss"},
	{regexp.MustCompile(`/tmp/[^ "\n)（]*`), "<tmp>"},
	{regexp.MustCompile(`go1\.[0-9.]+`), "<go>"},
	{regexp.MustCompile(`(uptime|运行时间)(:\s+)[0-9hms.]+`), "${1}${2}<uptime>"},
	{regexp.MustCompile(`(attempts|kernel_events|processes)(["]?:\s*)[0-9]+`), "$1$2<n>"},
	{regexp.MustCompile(`\(([0-9]+) ms, scan`), "(<n> ms, scan"},
}

var (
	digitsRE = regexp.MustCompile(`[0-9]+`)
	spacesRE = regexp.MustCompile(` +`)
)

func normalize(s string) string {
	for _, v := range volatile {
		s = v.re.ReplaceAllString(s, v.with)
	}
	return s
}

// TestGolden runs every subcommand against one daemon with known
// content and compares its output with testdata/NAME.golden: tables at
// 80 and 120 columns in en and zh-CN, and the --json shapes. Run
// "go test ./cmd/permctl -run Golden -update" after an intended change
// and review the diff.
func TestGolden(t *testing.T) {
	root := procFixtureRoot(t)
	pl := filepath.Join(root, "data", "system", "packages.list")
	b, _ := os.ReadFile(pl)
	b = append(b, "com.example.maps 10123 0 /data/user/0/com.example.maps default:targetSdkVersion=34 3003 0 1 1 @null\n"+
		"com.example.chat 10124 0 /data/user/0/com.example.chat default:targetSdkVersion=34 3003 0 1 1 @null\n"...)
	os.WriteFile(pl, b, 0o640)
	d := frameworktest.Start(t, frameworktest.Options{Root: root, Config: map[string]string{
		"process.json":   `{"mode": "poll", "window": "100ms", "logd": false}`,
		"indicator.json": `{"version":1,"hold":"0s"}`,
	}})
	seed := [][]string{
		{"grant", "com.example.maps", "location", "--while-in-use", "--max", "10/hour", "--precision", "3km"},
		{"grant", "com.example.maps", "contacts", "--for", "24h", "--precision", "selected", "--items", "1,2,3"},
		{"grant", "com.example.chat", "microphone", "--window", "09:00-18:00"},
		{"grant", "com.example.chat", "sms", "--deny"},
		{"call", "ledger.report", `{"records":[
			{"uid":10123,"kind":"access","category":"location","op":"android:fine_location","result":"denied","app_state":"background"},
			{"uid":10124,"kind":"clipboard_read","category":"clipboard","result":"allowed","app_state":"foreground","detail":{"api":"android.content.ClipboardManager#getPrimaryClip(a long api name that does not fit in eighty columns)"}}]}`},
		{"call", "proc.report", `{"uid":10200,"reason":"BOOT_COMPLETE","component":"com.example.boot/.Receiver"}`},
	}
	for _, args := range seed {
		if code, _, errs := permctl(t, d.Socket, args...); code != exitOK {
			t.Fatalf("seed %v: %d %s", args, code, errs)
		}
	}
	startUse(t, d.Socket, map[string]any{"resource": "camera", "uid": 10123, "package": "com.example.maps", "via": []map[string]any{{"uid": 1047, "package": "cameraserver"}}})
	// The reported start, the ledger's commits and the preinstall scan
	// are asynchronous: wait until all seven rows and the scan show.
	wait.UntilSeen(t, "seven ledger rows and a finished preinstall scan", func() (bool, string) {
		_, rows, _ := permctl(t, d.Socket, "ledger", "verify")
		_, pre, _ := permctl(t, d.Socket, "preinstall")
		return strings.HasPrefix(rows, "rows 7:") && !strings.Contains(pre, "still running"), rows + pre
	})

	tables := [][]string{
		{"grants"}, {"catalogue"}, {"indicators"}, {"ledger"}, {"ledger", "summary"}, {"ledger", "timeline"},
		{"ledger", "verify"}, {"preinstall"}, {"starts"}, {"procs", "--apps"}, {"rules"}, {"version"},
		{"ledger", "--limit", "1"}, {"status"}, {"dump"},
		// Last: they change the state the others show.
		{"grant", "com.example.maps", "camera", "--once"}, {"revoke", "com.example.maps", "camera"},
	}
	var names []string
	check := func(name string, args []string, cols string) {
		t.Helper()
		var out, errb bytes.Buffer
		env := func(k string) string {
			switch k {
			case "PERMD_SOCKET":
				return d.Socket
			case "COLUMNS":
				return cols
			}
			return ""
		}
		code := run(context.Background(), args, &out, &errb, env)
		if code != exitOK {
			t.Errorf("%v: exit %d: %s", args, code, errb.String())
			return
		}
		names = append(names, name)
		got := normalize(out.String())
		if args[len(args)-1] == "status" || args[len(args)-1] == "dump" {
			// Their counters follow the clock (polls, reconnects) and
			// set the column widths: compare the words and the layout
			// of lines, with every number as N and spaces collapsed.
			// The indented lines are each part's own health figures,
			// which the parts' owners extend; TestStatusAndVersion and
			// TestDump check their layout.
			var keep []string
			for _, l := range strings.Split(got, "\n") {
				if !strings.HasPrefix(l, " ") {
					keep = append(keep, l)
				}
			}
			got = strings.Join(keep, "\n")
			got = digitsRE.ReplaceAllString(got, "N")
			got = spacesRE.ReplaceAllString(got, " ")
		}
		file := filepath.Join("testdata", name+".golden")
		if *update {
			if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("%v: %v (run go test ./cmd/permctl -run Golden -update)", args, err)
			return
		}
		if got != string(want) {
			t.Errorf("permctl %s (COLUMNS=%s) differs from %s (if on purpose: go test ./cmd/permctl -run Golden -update, then review git diff):\n--- got\n%s\n--- want\n%s", strings.Join(args, " "), cols, file, got, want)
		}
	}
	check("ledger_wide.en.80", []string{"ledger", "--wide"}, "80")
	for _, args := range tables {
		base := strings.ReplaceAll(strings.Join(args, "_"), "-", "")
		for _, lang := range []string{"en", "zh-CN"} {
			for _, cols := range []string{"80", "120"} {
				if args[0] == "revoke" {
					permctl(t, d.Socket, "grant", "com.example.maps", "camera", "--once")
				}
				a := append([]string{"--lang", lang}, args...)
				check(fmt.Sprintf("%s.%s.%s", base, lang, cols), a, cols)
			}
		}
		if args[0] == "grant" || args[0] == "revoke" {
			continue // they change state; shown once per language above
		}
		check(base+".json", append([]string{"--json"}, args...), "")
	}
	// The overview (permctl help) and the completion script list every
	// command and global flag, which other files add with one line each;
	// TestHelpOnStdout and TestBashCompletion check them without pinning
	// the list.
	check("call_sys.version", []string{"call", "sys.version"}, "")
	check("grant_help.en", []string{"grant", "-h"}, "")
	if !*update {
		// Every golden file is one this test writes: a stale file would
		// test nothing.
		files, _ := filepath.Glob(filepath.Join("testdata", "*.golden"))
		for _, f := range files {
			n := strings.TrimSuffix(filepath.Base(f), ".golden")
			found := false
			for _, x := range names {
				found = found || x == n
			}
			if !found {
				t.Errorf("%s is not produced by TestGolden any more; remove it", f)
			}
		}
	}
}
