package packages

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"permd/aosp/wait"
)

// Lines as written by real releases' PackageManager (Settings.writePackageListLPr).
const (
	// Android 14: ten fields.
	lineA14 = "com.android.chrome 10113 0 /data/user/0/com.android.chrome default:targetSdkVersion=34 3002,3003,3001 0 651209933 1 com.android.vending"
	// Android 14, shared system uid, no gids.
	lineA14Settings = "com.android.settings 1000 0 /data/user_de/0/com.android.settings platform:system_app:targetSdkVersion=34 none 0 34 1 @system"
	lineA14Shared   = "com.android.providers.settings 1000 0 /data/system platform:system_app:targetSdkVersion=34 none 0 34 1 @system"
	// Android 10: eight fields (no profileable, no installer).
	lineA10 = "com.google.android.gms 10088 0 /data/user/0/com.google.android.gms default:privapp:targetSdkVersion=29 3002,3003,3001,1007,1065,3006 0 201516037"
	// Android 9: seven fields.
	lineA9 = "com.whatsapp 10145 0 /data/user/0/com.whatsapp default:targetSdkVersion=28 3003 0"
	// Android 6: six fields.
	lineA6 = "com.tencent.mm 10078 0 /data/data/com.tencent.mm default 3002,3003,1028,1015"
	// Android 4.1: four fields.
	lineA4 = "com.example.legacy 10040 1 /data/data/com.example.legacy"
	// Null data dir (apex-like packages).
	lineNull = "com.android.nfc 1027 0 null platform:targetSdkVersion=34 none 0 34 0 @system"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(new(bytes.Buffer), nil)) }

func TestParseLineEveryField(t *testing.T) {
	got, err := ParseLine(lineA14)
	if err != nil {
		t.Fatal(err)
	}
	want := &Package{
		Name: "com.android.chrome", UID: 10113, DataDir: "/data/user/0/com.android.chrome",
		SEInfo: "default:targetSdkVersion=34", GIDs: []int{3002, 3003, 3001}, VersionCode: 651209933,
		Profileable: true, Installer: "com.android.vending", Fields: 10,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseLine:\n got  %+v\n want %+v", got, want)
	}
}

func TestParseLineOlderFormats(t *testing.T) {
	cases := []struct {
		line   string
		name   string
		uid    int
		fields int
		check  func(p *Package) string
	}{
		{lineA10, "com.google.android.gms", 10088, 8, func(p *Package) string {
			if p.VersionCode != 201516037 || len(p.GIDs) != 6 || p.Installer != "" {
				return fmt.Sprintf("version %d gids %v installer %q", p.VersionCode, p.GIDs, p.Installer)
			}
			return ""
		}},
		{lineA9, "com.whatsapp", 10145, 7, nil},
		{lineA6, "com.tencent.mm", 10078, 6, func(p *Package) string {
			if p.SEInfo != "default" || !reflect.DeepEqual(p.GIDs, []int{3002, 3003, 1028, 1015}) {
				return fmt.Sprintf("seinfo %q gids %v", p.SEInfo, p.GIDs)
			}
			return ""
		}},
		{lineA4, "com.example.legacy", 10040, 4, func(p *Package) string {
			if !p.Debuggable || p.DataDir != "/data/data/com.example.legacy" {
				return fmt.Sprintf("debuggable %v datadir %q", p.Debuggable, p.DataDir)
			}
			return ""
		}},
		{lineNull, "com.android.nfc", 1027, 10, func(p *Package) string {
			if p.DataDir != "" || p.GIDs != nil || p.Installer != "@system" {
				return fmt.Sprintf("datadir %q gids %v installer %q", p.DataDir, p.GIDs, p.Installer)
			}
			return ""
		}},
	}
	for _, c := range cases {
		p, err := ParseLine(c.line)
		if err != nil {
			t.Errorf("%q: %v", c.line, err)
			continue
		}
		if p.Name != c.name || p.UID != c.uid || p.Fields != c.fields {
			t.Errorf("%q: got name %q uid %d fields %d, want %q %d %d", c.line, p.Name, p.UID, p.Fields, c.name, c.uid, c.fields)
		}
		if c.check != nil {
			if msg := c.check(p); msg != "" {
				t.Errorf("%q: %s", c.line, msg)
			}
		}
	}
}

func TestParseLineRejects(t *testing.T) {
	cases := map[string]string{
		"com.only.name":                      "need at least name and uid",
		"com.bad.uid abc 0 /data":            "field 2 (uid)",
		"com.neg.uid -5":                     "field 2 (uid)",
		"com.bad.debug 10001 2 /data":        "field 3 (debuggable)",
		"com.bad.gid 10001 0 /d se 30x,1":    "field 6 (gids)",
		"com.bad.ver 10001 0 /d se none 0 v": "field 8 (versionCode)",
		"bad/name 10001":                     "field 1 (name)",
	}
	for line, want := range cases {
		_, err := ParseLine(line)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got error %v, want one containing %q", line, err, want)
		}
	}
}

func TestParseSkipsMalformedAndNamesLine(t *testing.T) {
	in := strings.Join([]string{lineA14, "garbage", lineA14Settings, "", lineA14Shared, "com.x notanumber 0", lineA6}, "\n") + "\n"
	var logs bytes.Buffer
	tab, err := Parse(strings.NewReader(in), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != 4 || tab.Bad != 2 {
		t.Errorf("got %d packages, %d bad; want 4 and 2", tab.Len(), tab.Bad)
	}
	for _, want := range []string{"line=2", "line=6"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not name %s:\n%s", want, logs.String())
		}
	}
	if got := tab.Packages(1000); !reflect.DeepEqual(got, []string{"com.android.providers.settings", "com.android.settings"}) {
		t.Errorf("shared uid 1000: got %v", got)
	}
}

func TestUsersAndAppIDs(t *testing.T) {
	tab, _ := Parse(strings.NewReader(lineA14+"\n"+lineA6+"\n"), discard())
	cases := []struct {
		uid  int
		want []string
	}{
		{10113, []string{"com.android.chrome"}},
		{1010113, []string{"com.android.chrome"}}, // user 10
		{10078, []string{"com.tencent.mm"}},
		{10079, nil},
		{-1, nil},
	}
	for _, c := range cases {
		if got := tab.Packages(c.uid); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Packages(%d) = %v, want %v", c.uid, got, c.want)
		}
	}
	if UserID(1010113) != 10 || AppID(1010113) != 10113 {
		t.Errorf("UserID/AppID(1010113) = %d/%d, want 10/10113", UserID(1010113), AppID(1010113))
	}
	if uid, ok := tab.UIDOf("com.tencent.mm", 11); !ok || uid != 1110078 {
		t.Errorf("UIDOf(com.tencent.mm, 11) = %d %v, want 1110078 true", uid, ok)
	}
	if _, ok := tab.UIDOf("com.none", 0); ok {
		t.Error("UIDOf an unknown package succeeded")
	}
	for uid, want := range map[int]bool{10000: true, 19999: true, 1010113: true, 1000: false, 99001: false, 20000: false} {
		if IsApp(uid) != want {
			t.Errorf("IsApp(%d) = %v, want %v", uid, !want, want)
		}
	}
}

// writeAtomic writes like PackageManager: a temp file renamed over.
func writeAtomic(t testing.TB, path, body string) {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestWatcherFollowsRenameWhileLookupsRun(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "packages.list")
	writeAtomic(t, path, lineA14+"\n")
	w, err := Watch(context.Background(), path, nil, discard())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if got := w.Packages(10113); len(got) != 1 {
		t.Fatalf("initial load: Packages(10113) = %v", got)
	}

	// Readers hammer the table while the file is rewritten: every answer
	// must be one of the two complete tables, never a partial one.
	var stop atomic.Bool
	var wg sync.WaitGroup
	var bad atomic.Value
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				a, b := w.Packages(10113), w.Packages(10078)
				tab := w.Table()
				if n := tab.Len(); n < 1 || n > 3 {
					bad.Store(fmt.Sprintf("table of %d packages", tab.Len()))
				}
				_, _ = a, b
				if _, ok := w.UIDOf("com.android.chrome", 0); !ok {
					bad.Store("chrome vanished")
				}
			}
		}()
	}
	for i := 0; i < 20; i++ {
		body := lineA14 + "\n"
		if i%2 == 0 {
			body += lineA6 + "\n"
		}
		writeAtomic(t, path, body)
		time.Sleep(15 * time.Millisecond)
	}
	writeAtomic(t, path, lineA14+"\n"+lineA6+"\n"+lineA10+"\n")
	wait.Until(t, "third package after rename", func() bool { return len(w.Packages(10088)) == 1 })
	stop.Store(true)
	wg.Wait()
	if v := bad.Load(); v != nil {
		t.Errorf("a reader saw an inconsistent table: %v", v)
	}
	if w.Table().Len() != 3 {
		t.Errorf("final table has %d packages, want 3", w.Table().Len())
	}
}

func TestWatcherFallbackAndAppearance(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "packages.list")
	w, err := Watch(context.Background(), path, FromMap(map[int][]string{1000: {"host.shell"}}), discard())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if got := w.Packages(1000); !reflect.DeepEqual(got, []string{"host.shell"}) {
		t.Fatalf("fallback: Packages(1000) = %v, want [host.shell]", got)
	}
	writeAtomic(t, path, lineA14Settings+"\n")
	wait.Until(t, "file to replace the fallback", func() bool {
		return reflect.DeepEqual(w.Packages(1000), []string{"com.android.settings"})
	})
}

func TestWatchMissingDirServesFallback(t *testing.T) {
	w, err := Watch(context.Background(), filepath.Join(t.TempDir(), "no", "packages.list"), FromMap(map[int][]string{10001: {"a.b"}}), discard())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if got := w.Packages(10001); len(got) != 1 {
		t.Errorf("Packages(10001) = %v, want [a.b]", got)
	}
}

func TestWatchUnreadableFileServesFallback(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "packages.list")
	// A line longer than any real one makes the scan fail.
	writeAtomic(t, path, "com.x 10001 "+strings.Repeat("x", maxLine+10)+"\n")
	w, err := Watch(context.Background(), path, FromMap(map[int][]string{10001: {"fallback.pkg"}}), discard())
	if err != nil {
		t.Fatalf("Watch failed instead of degrading: %v", err)
	}
	defer w.Close()
	if got := w.Packages(10001); !reflect.DeepEqual(got, []string{"fallback.pkg"}) {
		t.Errorf("Packages(10001) = %v, want the fallback", got)
	}
	writeAtomic(t, path, lineA14+"\n")
	wait.Until(t, "the repaired file to load", func() bool { return len(w.Packages(10113)) == 1 })
}
