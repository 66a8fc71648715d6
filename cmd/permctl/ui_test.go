//go:build !android

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"permd/aosp/privacy/privacytest"
	"permd/aosp/wait"
)

// startUI runs `permctl ui ARGS` in-process against socket and returns
// the URL it printed; the server stops when the test ends.
func startUI(t *testing.T, socket string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"--socket", socket, "ui"}, args...), pw, &errb, func(string) string { return "" })
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != exitOK {
				t.Errorf("permctl ui exited %d after Ctrl-C, want 0: %s", code, errb.String())
			}
		case <-time.After(10 * time.Second):
			t.Error("permctl ui did not stop when its context ended")
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("permctl ui printed no URL: %v %s", err, errb.String())
	}
	go io.Copy(io.Discard, pr)
	url := regexp.MustCompile(`http://127\.0\.0\.1:\d+/[0-9a-f]{32}/`).FindString(line)
	if url == "" {
		t.Fatalf("permctl ui printed %q, want a loopback URL with a token", line)
	}
	return url
}

// screenshotDir is where screenshots go: docs/images when
// PERMD_SCREENSHOTS=1 (make screenshots), else the test's temp dir.
func screenshotDir(t *testing.T) string {
	if os.Getenv("PERMD_SCREENSHOTS") == "1" {
		return filepath.Join("..", "..", "docs", "images")
	}
	return t.TempDir()
}

func screenshot(t *testing.T, p *privacytest.Page, path string, width int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := p.Screenshot(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if w := img.Bounds().Dx(); w != width {
		t.Fatalf("screenshot is %d px wide, want %d", w, width)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// screenshotBoth saves the page in English and in Chinese.
func screenshotBoth(t *testing.T, p *privacytest.Page, base string) {
	t.Helper()
	screenshot(t, p, base+"-en.png", 1280)
	privacytest.Eval(t, p, `privacyCenter.setLang('zh-CN')`, nil)
	privacytest.Ready(t, p)
	screenshot(t, p, base+"-zh-CN.png", 1280)
	privacytest.Eval(t, p, `privacyCenter.setLang('en')`, nil)
	privacytest.Ready(t, p)
}

func setViewport(t *testing.T, p *privacytest.Page, w, h int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.SetViewport(ctx, w, h, w < 600); err != nil {
		t.Fatal(err)
	}
}

// click clicks the element matched by selector and waits for the page.
func click(t *testing.T, p *privacytest.Page, selector string) {
	t.Helper()
	var ok bool
	privacytest.Eval(t, p, `(() => { const e = document.querySelector(`+jsString(selector)+`); if (!e) return false; e.click(); return true; })()`, &ok)
	if !ok {
		t.Fatalf("no element %s on the page", selector)
	}
}

func jsString(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
}

func checkFigures(t *testing.T, f *privacytest.Fixture, p *privacytest.Page, window string) {
	t.Helper()
	since := privacytest.SinceMS(t, p)
	wantCats, wantStarts := f.Summary(t, since)
	gotCats, gotStarts := privacytest.PageFigures(t, p)
	if err := privacytest.Equal(gotCats, wantCats); err != nil {
		t.Errorf("overview %s, categories:\n%v", window, err)
	}
	if err := privacytest.Equal(gotStarts, wantStarts); err != nil {
		t.Errorf("overview %s, starts:\n%v", window, err)
	}
	if len(wantCats) < 5 {
		t.Fatalf("overview %s: the fixture should show at least 5 categories, summary has %v", window, wantCats)
	}
}

// TestPrivacyCenterInBrowser drives headless chromium through `permctl
// ui` on a seeded permd: every page loads without console errors, the
// overview's figures equal ledger.summary for the same window in both
// windows, the per-app page shows evidence-based risk prompts, a grant
// change made on the page is what `permctl grants` then shows, and a
// role that may not change grants is refused; both languages are
// complete; the pages fit 360 px and 1280 px screens.
func TestPrivacyCenterInBrowser(t *testing.T) {
	f := privacytest.Start(t, nil)
	url := startUI(t, f.Socket)
	b := privacytest.Browser(t, "en-US")
	p := privacytest.NewPage(t, b)
	setViewport(t, p, 1280, 800)
	shots := screenshotDir(t)

	t.Run("overview figures equal ledger.summary", func(t *testing.T) {
		privacytest.Open(t, p, url+"#/")
		checkFigures(t, f, p, "24h")
		var loc map[string]string
		privacytest.Eval(t, p, `Object.fromEntries([...document.querySelectorAll('#categories tr[data-category=location] [data-f]')].map(x => [x.dataset.f, x.textContent]))`, &loc)
		if loc["background"] != "14" || loc["denied"] != "3" {
			t.Errorf("location row %v, want 14 in background and 3 denied (the seeded record)", loc)
		}
		screenshotBoth(t, p, filepath.Join(shots, "privacy-overview"))
		click(t, p, `button[data-l=win_7d]`)
		privacytest.Ready(t, p)
		checkFigures(t, f, p, "7d")
		var bg string
		privacytest.Eval(t, p, `document.querySelector('#categories tr[data-category=location] [data-f=background]').textContent`, &bg)
		if bg != "20" {
			t.Errorf("7 days: location in background %q, want 20", bg)
		}
		var charts int
		privacytest.Eval(t, p, `document.querySelectorAll('figure.timeline svg[role=img] desc').length`, &charts)
		if charts < 6 {
			t.Errorf("overview has %d charts with a text alternative, want one overall and one per used category (6)", charts)
		}
	})

	t.Run("app page: risk prompts and grant change", func(t *testing.T) {
		privacytest.Open(t, p, url+"#/app/10123")
		var risks string
		privacytest.Eval(t, p, `document.getElementById('risk-list').textContent`, &risks)
		if !strings.Contains(risks, "Used or tried to use your Location 14 times in the background (Last 24 hours) while its grant is “While using the app”") {
			t.Errorf("risk prompts %q: want the 14 background uses under a while-in-use grant", risks)
		}
		if !strings.Contains(risks, "Started itself 4 times") {
			t.Errorf("risk prompts %q: want the 4 self-starts", risks)
		}
		screenshotBoth(t, p, filepath.Join(shots, "privacy-app"))
		// The export holds exactly the rows shown, as NDJSON events.
		var export struct {
			Text  string `json:"text"`
			Shown []int  `json:"shown"`
		}
		privacytest.Eval(t, p, `(async () => {
		  let blob; const orig = URL.createObjectURL;
		  URL.createObjectURL = b => { blob = b; return orig.call(URL, b); };
		  document.getElementById('export').click();
		  URL.createObjectURL = orig;
		  return {text: await blob.text(), shown: [...document.querySelectorAll('table.events tbody tr')].map(tr => Number(tr.dataset.seq))};
		})()`, &export)
		lines := strings.Split(strings.TrimSuffix(export.Text, "\n"), "\n")
		if len(export.Shown) < 10 || len(lines) != len(export.Shown) {
			t.Fatalf("export has %d lines for %d rows shown:\n%s", len(lines), len(export.Shown), export.Text)
		}
		for i, l := range lines {
			var ev struct {
				Seq  int    `json:"seq"`
				Kind string `json:"kind"`
				UID  int    `json:"uid"`
			}
			if err := json.Unmarshal([]byte(l), &ev); err != nil || ev.Seq != export.Shown[i] || ev.UID != privacytest.Maps || ev.Kind == "" {
				t.Errorf("export line %d %q: want the event of row seq %d (err %v)", i, l, export.Shown[i], err)
			}
		}
		// "Show more" pages on with the query's cursor.
		var before, after int
		privacytest.Eval(t, p, `document.querySelectorAll('[data-kind=access] tbody tr').length`, &before)
		click(t, p, `[data-kind=access] button[data-l=more]`)
		ctx0, cancel0 := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel0()
		if err := p.WaitFor(ctx0, `document.querySelectorAll('[data-kind=access] tbody tr').length > 10`); err != nil {
			t.Fatal(err)
		}
		privacytest.Eval(t, p, `document.querySelectorAll('[data-kind=access] tbody tr').length`, &after)
		if before != 10 || after != 20 {
			t.Errorf("access rows %d, then %d after Show more; want 10 then 20 (25 seeded)", before, after)
		}
		privacytest.Eval(t, p, `(() => { const f = document.querySelector('form.grant[data-category=location]');
		  f.mode.value = 'duration'; f.for.value = '24h'; f.max.value = '5'; f.per.value = 'hour'; f.level.value = 'city';
		  f.querySelector('button[type=submit]').click(); })()`, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.WaitFor(ctx, `document.querySelector('form.grant[data-category=location] .msg').textContent !== ''`); err != nil {
			t.Fatal(err)
		}
		var msg string
		privacytest.Eval(t, p, `document.querySelector('form.grant[data-category=location] .msg').textContent`, &msg)
		if msg != "Saved." {
			t.Fatalf("after saving the grant the page says %q, want Saved.", msg)
		}
		code, out, errs := permctl(t, f.Socket, "--json", "grants", "--package", "com.example.maps")
		for _, want := range []string{`"mode":\s*"duration"`, `"for":\s*"24h"`, `"max":\s*5`, `"level":\s*"city"`} {
			if code != exitOK || !regexp.MustCompile(want).MatchString(out) {
				t.Errorf("permctl grants after the page's change: code %d, want %s in\n%s%s", code, want, out, errs)
			}
		}
		privacytest.NoProblems(t, p)
	})

	t.Run("a read-only role is refused", func(t *testing.T) {
		// Reload the roles: this process (root) becomes framework, which
		// reads the ledger and grants but may not change grants.
		if err := os.WriteFile(filepath.Join(f.ConfigDir, "permd.json"), []byte(`{"version":1,"roles":[{"uid":0,"role":"framework"}]}`), 0o644); err != nil {
			t.Fatal(err)
		}
		wait.WithinSeen(t, 20*time.Second, "permd to reload the roles (role framework)", func() (bool, string) {
			_, out, _ := permctl(t, f.Socket, "status")
			return strings.Contains(out, "role framework"), out
		})
		// permd identifies a client once per connection: a new permctl
		// ui connects with the new role.
		url := startUI(t, f.Socket)
		privacytest.Open(t, p, url+"#/app/10123")
		privacytest.Eval(t, p, `(() => { const f = document.querySelector('form.grant[data-category=location]');
		  f.mode.value = 'always'; f.background.checked = true; f.querySelector('button[type=submit]').click(); })()`, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.WaitFor(ctx, `document.querySelector('form.grant[data-category=location] .msg').textContent !== ''`); err != nil {
			t.Fatal(err)
		}
		var msg string
		privacytest.Eval(t, p, `document.querySelector('form.grant[data-category=location] .msg').textContent`, &msg)
		if !strings.HasPrefix(msg, "Refused: your role may not change grants") {
			t.Errorf("grant change as framework: page says %q, want a refusal", msg)
		}
		_, out, _ := permctl(t, f.Socket, "--json", "grants", "--package", "com.example.maps")
		if !regexp.MustCompile(`"mode":\s*"duration"`).MatchString(out) {
			t.Errorf("a refused change altered the grant:\n%s", out)
		}
		os.WriteFile(filepath.Join(f.ConfigDir, "permd.json"), []byte(`{"version":1,"roles":[{"uid":0,"role":"root"}]}`), 0o644)
	})

	t.Run("now and rules pages", func(t *testing.T) {
		privacytest.Open(t, p, url+"#/rules")
		var ver string
		privacytest.Eval(t, p, `document.getElementById('rules-version').textContent`, &ver)
		var rules struct {
			Version int `json:"version"`
		}
		f.Call(t, "rules.get", nil, &rules)
		if ver != strconv.Itoa(rules.Version) {
			t.Errorf("rules page shows version %q, rules.get says %d", ver, rules.Version)
		}
		var ok string
		privacytest.Eval(t, p, `document.getElementById('verify').dataset.ok`, &ok)
		if ok != "true" {
			t.Errorf("integrity status %q, want true (ledger.verify ok)", ok)
		}
		privacytest.Open(t, p, url+"#/now")
		var use struct {
			Use int64 `json:"use"`
		}
		f.Call(t, "op.start", map[string]any{"resource": "camera", "uid": privacytest.Cam, "package": "com.example.cam"}, &use)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.WaitFor(ctx, `document.querySelector('#now li.on[data-resource=camera]') && document.querySelector('#now li.on[data-resource=camera]').textContent.includes('com.example.cam')`); err != nil {
			t.Fatalf("the now page did not show the camera in use live: %v", err)
		}
		f.Call(t, "op.finish", map[string]any{"use": use.Use}, nil)
		privacytest.NoProblems(t, p)
	})

	t.Run("languages are complete", func(t *testing.T) {
		var keys struct{ En, Zh []string }
		privacytest.Eval(t, p, `({En: Object.keys(privacyCenter.labels.en).sort(), Zh: Object.keys(privacyCenter.labels['zh-CN']).sort()})`, &keys)
		if strings.Join(keys.En, ",") != strings.Join(keys.Zh, ",") {
			t.Fatalf("label sets differ:\nen %v\nzh %v", keys.En, keys.Zh)
		}
		for _, pg := range []string{"#/", "#/app/10123", "#/app/10200", "#/rules", "#/now"} {
			privacytest.Open(t, p, url+pg)
			privacytest.Eval(t, p, `privacyCenter.setLang('zh-CN')`, nil)
			privacytest.Ready(t, p)
			var bad []string
			privacytest.Eval(t, p, `(() => {
			  const L = privacyCenter.labels, bad = [];
			  document.querySelectorAll('[data-l]').forEach(e => { if (e.textContent !== L['zh-CN'][e.dataset.l]) bad.push(e.dataset.l + ': ' + e.textContent); });
			  const text = document.body.innerText;
			  for (const k in L.en) { const s = L.en[k].replace(/%[sd].*$/, ''); if (s.length > 3 && s !== L['zh-CN'][k] && text.includes(s)) bad.push('english left: ' + s); }
			  if (document.documentElement.lang !== 'zh-CN') bad.push('html lang ' + document.documentElement.lang);
			  return bad; })()`, &bad)
			if len(bad) > 0 {
				t.Errorf("%s in zh-CN: %v", pg, bad)
			}
			privacytest.Eval(t, p, `privacyCenter.setLang('en')`, nil)
			privacytest.Ready(t, p)
		}
	})

	t.Run("ui --db shows a database file", func(t *testing.T) {
		url := startUI(t, filepath.Join(t.TempDir(), "no-daemon.sock"), "--db", filepath.Join(f.DataDir, "permd.db"))
		privacytest.Open(t, p, url+"#/")
		checkFigures(t, f, p, "--db 24h")
		var mode string
		privacytest.Eval(t, p, `document.querySelector('header .meta [data-l^=mode_]').dataset.l`, &mode)
		if mode != "mode_db" {
			t.Errorf("header says %s, want mode_db (read-only file)", mode)
		}
		privacytest.Open(t, p, url+"#/app/10123")
		var inputs, enabled int
		privacytest.Eval(t, p, `document.querySelectorAll('form.grant').length`, &inputs)
		privacytest.Eval(t, p, `document.querySelectorAll('form.grant button, form.grant select:not([disabled])').length`, &enabled)
		if inputs != 0 || enabled != 0 {
			t.Errorf("a database file shows %d grant forms with %d live controls; grants are not in the file", inputs, enabled)
		}
		privacytest.Open(t, p, url+"#/rules")
		privacytest.Open(t, p, url+"#/now")
	})

	t.Run("fits 360 and 1280 px", func(t *testing.T) {
		for _, w := range []int{360, 1280} {
			setViewport(t, p, w, 800)
			for _, pg := range []string{"#/", "#/app/10123", "#/rules"} {
				privacytest.Open(t, p, url+pg)
				var sw, iw int
				privacytest.Eval(t, p, `document.documentElement.scrollWidth`, &sw)
				privacytest.Eval(t, p, `window.innerWidth`, &iw)
				if sw > iw {
					t.Errorf("%s at %d px: the page is %d px wide, wider than the screen (%d)", pg, w, sw, iw)
				}
			}
		}
	})
}

func TestUIRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:8080", ":0", "192.0.2.1:0"} {
		code, _, errs := permctl(t, "/nonexistent.sock", "ui", "--listen", addr)
		if code != exitUsage || !strings.Contains(errs, "not a loopback IP") {
			t.Errorf("permctl ui --listen %s: code %d, stderr %q; want a usage error about loopback", addr, code, errs)
		}
	}
}
