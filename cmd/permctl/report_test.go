//go:build !android

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"permd/aosp/privacy/privacytest"
)

// openReportOffline opens a report file in chromium with the network cut
// and checks that the page requested nothing but the file itself.
func openReportOffline(t *testing.T, p *privacytest.Page, path, fragment string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Offline(ctx); err != nil {
		t.Fatal(err)
	}
	url := "file://" + path + fragment
	before := len(p.Requests())
	privacytest.Open(t, p, url)
	for _, r := range p.Requests()[before:] {
		if r != "file://"+path && r != "about:blank" && !strings.HasPrefix(r, "data:") {
			t.Errorf("the report requested %s; a report must load nothing from outside the file", r)
		}
	}
}

// TestReportHTMLOffline writes `permctl report --html` from a live
// permd and from the database file, opens each in headless chromium
// offline, and checks the figures against ledger.summary for the
// report's window.
func TestReportHTMLOffline(t *testing.T) {
	f := privacytest.Start(t, nil)
	dir := t.TempDir()
	live := filepath.Join(dir, "live.html")
	code, out, errs := permctl(t, f.Socket, "report", "--html", live, "--since", "7d")
	if code != exitOK || !strings.Contains(out, "wrote "+live) {
		t.Fatalf("permctl report: code %d\n%s%s", code, out, errs)
	}
	b := privacytest.Browser(t, "en-US")
	p := privacytest.NewPage(t, b)
	openReportOffline(t, p, live, "")
	checkFigures(t, f, p, "report 7d")
	var bg string
	privacytest.Eval(t, p, `document.querySelector('#categories tr[data-category=location] [data-f=background]').textContent`, &bg)
	if bg != "20" {
		t.Errorf("report: location in background %q, want 20 (the seeded 7 days)", bg)
	}
	// Every app page and the rules page are in the file too.
	for _, frag := range []string{"#/app/10123", "#/app/10200", "#/app/10300", "#/rules"} {
		openReportOffline(t, p, live, frag)
	}
	var risks string
	privacytest.Eval(t, p, `location.hash = '#/app/10123'`, nil)
	privacytest.Ready(t, p)
	privacytest.Eval(t, p, `document.getElementById('risk-list').textContent`, &risks)
	if !strings.Contains(risks, "20 times in the background") {
		t.Errorf("report app page risks %q: want the 20 background uses of 7 days", risks)
	}

	// The same from the database file, for one package.
	db := filepath.Join(f.DataDir, "permd.db")
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("fixture database: %v", err)
	}
	one := filepath.Join(dir, "maps.html")
	code, out, errs = permctl(t, f.Socket, "report", "--html", one, "--db", db, "--package", "com.example.maps")
	if code != exitOK {
		t.Fatalf("permctl report --db --package: code %d\n%s%s", code, out, errs)
	}
	openReportOffline(t, p, one, "")
	var page, grantsMsg string
	privacytest.Eval(t, p, `document.body.dataset.page`, &page)
	if page != "app" {
		t.Errorf("a report for one package opens on %q, want its app page", page)
	}
	privacytest.Eval(t, p, `document.querySelector('section[aria-labelledby=grants]').textContent`, &grantsMsg)
	if !strings.Contains(grantsMsg, "not in a ledger file") {
		t.Errorf("grants section of a report from a file: %q, want it to say grants are not in the file", grantsMsg)
	}
	var links int
	privacytest.Eval(t, p, `location.hash = '#/'`, nil)
	privacytest.Ready(t, p)
	checkFigures(t, f, p, "report from file")
	privacytest.Eval(t, p, `document.querySelectorAll('ul.apps a').length`, &links)
	if links != 1 {
		t.Errorf("a one-package report links %d app pages, want 1", links)
	}

	// Bad command lines name the problem.
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"report"}, "--html FILE is required"},
		{[]string{"report", "--html", filepath.Join(dir, "x.html"), "--since", "soon"}, "is not a time"},
		{[]string{"report", "--html", filepath.Join(dir, "x.html"), "--db", filepath.Join(dir, "none.db")}, "none.db"},
	} {
		code, _, errs := permctl(t, f.Socket, tc.args...)
		if code == exitOK || !strings.Contains(errs, tc.msg) {
			t.Errorf("permctl %v: code %d, stderr %q; want a failure naming %q", tc.args, code, errs, tc.msg)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.html")); err == nil {
		t.Error("a failed report left a file behind")
	}
}
