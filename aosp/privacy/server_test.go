package privacy_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"permd/aosp/privacy"
	"permd/aosp/privacy/privacytest"
	"permd/framework/client"
	"permd/framework/frameworktest"
)

// serve runs a Server for src on a loopback port until the test ends.
func serve(t *testing.T, src privacy.Source) (base string, srv *privacy.Server) {
	t.Helper()
	srv, err := privacy.NewServer(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := privacy.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String(), srv
}

func do(t *testing.T, method, url, host, ctype, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestListenRefusesAnythingButLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0", "localhost:0", "example.com:0", "127.0.0.1"} {
		ln, err := privacy.Listen(addr)
		if err == nil {
			ln.Close()
			t.Errorf("Listen(%q) succeeded, want a refusal", addr)
			continue
		}
		if !strings.Contains(err.Error(), addr) {
			t.Errorf("Listen(%q): %v; want the error to name the address", addr, err)
		}
	}
	ln, err := privacy.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		t.Fatalf("bound %v, want loopback", ip)
	}
}

// TestServerRefusals tries each refusal of the UI server against a real
// permd: no or a wrong token, a foreign Host, a method outside the
// list, a wrong content type or verb, an oversized call; and checks the
// strict CSP on every answer.
func TestServerRefusals(t *testing.T) {
	f := privacytest.Start(t, nil)
	d := &privacy.Daemon{Socket: f.Socket}
	defer d.Close()
	base, srv := serve(t, d)
	tok := "/" + srv.Token() + "/"
	if len(srv.Token()) != 32 {
		t.Fatalf("token %q: want 128 random bits in hex", srv.Token())
	}
	if again, _ := privacy.NewServer(d, nil); again.Token() == srv.Token() {
		t.Fatal("two servers got the same token")
	}
	api := func(body string) (*http.Response, string) {
		return do(t, "POST", base+tok+"api", "", "application/json", body)
	}

	resp, body := do(t, "GET", base+tok, "", "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `<script src="app.js"`) {
		t.Fatalf("GET with the token: %d %q", resp.StatusCode, body)
	}
	for _, tc := range []struct {
		name, method, path, host, ctype, body string
		code                                  int
		msg                                   string
	}{
		{"no token", "GET", "/", "", "", "", 403, "token"},
		{"no token, asset", "GET", "/app.js", "", "", "", 403, "token"},
		{"wrong token", "GET", "/" + strings.Repeat("0", 32) + "/", "", "", "", 403, "token"},
		{"token prefix", "GET", "/" + srv.Token()[:31] + "/", "", "", "", 403, "token"},
		{"no token, api", "POST", "/api", "", "application/json", `{"method":"ledger.summary"}`, 403, "token"},
		{"foreign host", "GET", tok, "evil.example:80", "", "", 403, "Host"},
		{"rebinding host", "GET", tok, "attacker.test", "", "", 403, "Host"},
		{"api by GET", "GET", tok + "api", "", "", "", 405, "POST"},
		{"api as a form", "POST", tok + "api", "", "application/x-www-form-urlencoded", `method=ledger.summary`, 415, "application/json"},
		{"api not JSON", "POST", tok + "api", "", "application/json", `{`, 400, "JSON"},
		{"api too large", "POST", tok + "api", "", "application/json", `{"method":"ledger.summary","params":{"package":"` + strings.Repeat("a", 70000) + `"}}`, 413, "too large"},
		{"method off the list: ledger.report", "POST", tok + "api", "", "application/json", `{"method":"ledger.report","params":{"records":[{"uid":10123,"kind":"access","category":"camera","result":"allowed"}]}}`, 403, "not served"},
		{"method off the list: op.start", "POST", tok + "api", "", "application/json", `{"method":"op.start","params":{"resource":"camera","uid":10300,"package":"com.example.cam"}}`, 403, "not served"},
		{"method off the list: ledger.export", "POST", tok + "api", "", "application/json", `{"method":"ledger.export"}`, 403, "not served"},
		{"method off the list: perm.decide", "POST", tok + "api", "", "application/json", `{"method":"perm.decide","params":{}}`, 403, "not served"},
	} {
		resp, body := do(t, tc.method, base+tc.path, tc.host, tc.ctype, tc.body)
		if resp.StatusCode != tc.code || !strings.Contains(body, tc.msg) {
			t.Errorf("%s: %d %q; want %d mentioning %q", tc.name, resp.StatusCode, body, tc.code, tc.msg)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != privacy.CSP {
			t.Errorf("%s: CSP %q, want %q", tc.name, got, privacy.CSP)
		}
	}
	// The refused ledger.report and op.start never reached permd.
	var sum struct {
		Apps []struct {
			Count int `json:"count"`
		} `json:"apps"`
	}
	f.Call(t, "ledger.summary", map[string]any{"kind": "access", "category": "camera"}, &sum)
	if len(sum.Apps) != 1 || sum.Apps[0].Count != 7 {
		t.Errorf("camera accesses after the refused report: %+v, want the seeded 7 only", sum.Apps)
	}
	var snap struct {
		Resources []struct {
			Resource string `json:"resource"`
			On       bool   `json:"on"`
		} `json:"resources"`
	}
	f.Call(t, "indicator.get", nil, &snap)
	for _, r := range snap.Resources {
		if r.On {
			t.Errorf("indicator shows %s on after a refused op.start", r.Resource)
		}
	}
	// An allowed method answers with the daemon's result.
	resp, body = api(`{"method":"ledger.summary","params":{"kind":"access","category":"camera"}}`)
	if resp.StatusCode != 200 || !strings.Contains(body, `"count":7`) {
		t.Errorf("allowed call: %d %s", resp.StatusCode, body)
	}
	// The daemon's own parameter checks still apply.
	_, body = api(`{"method":"ledger.summary","params":{"nosuch":1}}`)
	if !strings.Contains(body, `-32602`) {
		t.Errorf("unknown param through the proxy: %s, want the daemon's -32602", body)
	}
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(privacy.CSP, want) {
			t.Errorf("CSP %q lacks %q", privacy.CSP, want)
		}
	}
	if strings.Contains(privacy.CSP, "unsafe") || strings.Contains(privacy.CSP, "*") {
		t.Errorf("CSP %q allows unsafe or wildcard sources", privacy.CSP)
	}
}

// TestRolesStillDecide: the server calls permd with its own identity, so
// a role that may not change grants is refused by permd itself.
func TestRolesStillDecide(t *testing.T) {
	d := frameworktest.Start(t, frameworktest.Options{Config: map[string]string{
		"permd.json": `{"version":1,"roles":[{"uid":0,"role":"framework"}]}`,
	}})
	src := &privacy.Daemon{Socket: d.Socket}
	defer src.Close()
	base, srv := serve(t, src)
	_, body := do(t, "POST", base+"/"+srv.Token()+"/api", "", "application/json",
		`{"method":"grants.set","params":{"package":"com.example.maps","category":"location","time":{"mode":"once"}}}`)
	var r struct {
		Error *client.RPCError `json:"error"`
	}
	if json.Unmarshal([]byte(body), &r) != nil || r.Error == nil || r.Error.Code != -32000 {
		t.Fatalf("grants.set as framework through the UI: %s; want permd's -32000 permission denied", body)
	}
}

// TestAssetsSelfContained: the pages load nothing from elsewhere (no
// absolute URLs, no CDN) and carry no inline script or style, which the
// CSP would block.
func TestAssetsSelfContained(t *testing.T) {
	abs := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	err := fs.WalkDir(privacy.Assets(), ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(privacy.Assets(), p)
		if err != nil {
			return err
		}
		for _, m := range abs.FindAllString(string(b), -1) {
			if m != "http://www.w3.org" { // the SVG namespace name, never fetched
				t.Errorf("%s: absolute URL %q", p, m)
			}
		}
		if strings.HasSuffix(p, ".html") {
			if regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`).Match(b) || strings.Contains(string(b), "<style") || strings.Contains(string(b), " style=") {
				t.Errorf("%s: inline script or style", p)
			}
		}
		if strings.HasSuffix(p, ".js") && regexp.MustCompile(`setAttribute\('style'|\.innerHTML|eval\(|new Function`).Match(b) {
			t.Errorf("%s: uses inline style, innerHTML or eval", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestFileSourceReadOnly: --db answers the page's reads from the file,
// checks params as permd does, refuses what a ledger file cannot
// answer, and never changes a byte of the file.
func TestFileSourceReadOnly(t *testing.T) {
	f := privacytest.Start(t, nil)
	f.Stop(t) // a pulled copy: no daemon behind it
	db := filepath.Join(f.DataDir, "permd.db")
	before := fileHash(t, db)
	src, err := privacy.OpenFile(db)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := src.Call(ctx, "ledger.summary", json.RawMessage(`{"kind":"access","category":"location"}`))
	if err != nil || !bytes.Contains(res, []byte(`"count":31`)) {
		t.Errorf("summary from file: %s %v; want the seeded 31 location accesses", res, err)
	}
	res, err = src.Call(ctx, "ledger.verify", nil)
	if err != nil || !bytes.Contains(res, []byte(`"ok":true`)) {
		t.Errorf("verify from file: %s %v", res, err)
	}
	res, err = src.Call(ctx, "rules.get", nil)
	if err != nil || !bytes.Contains(res, []byte(`"kinds"`)) {
		t.Errorf("rules from file: %.80s %v", res, err)
	}
	for _, tc := range []struct {
		method, params string
		code           int
	}{
		{"ledger.summary", `{"nosuch":1}`, -32602},
		{"ledger.timeline", `{"bucket":"week"}`, -32602},
		{"ledger.query", `{"limit":5000}`, -32602},
		{"ledger.query", `{"cursor":"x"}`, -32602},
		{"grants.set", `{}`, -32004},
		{"indicator.get", `{}`, -32004},
		{"ledger.report", `{}`, -32601},
	} {
		_, err := src.Call(ctx, tc.method, json.RawMessage(tc.params))
		var re *client.RPCError
		if !errors.As(err, &re) || re.Code != tc.code {
			t.Errorf("%s %s from file: %v, want code %d", tc.method, tc.params, err, tc.code)
		}
	}
	src.Close()
	if fileHash(t, db) != before {
		t.Fatal("reading the file through the UI changed it")
	}
}

func fileHash(t *testing.T, p string) [32]byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}
