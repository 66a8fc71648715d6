// Package cdp drives Debian's headless chromium over the Chrome DevTools
// Protocol on a pipe (--remote-debugging-pipe: commands on fd 3, replies
// and events on fd 4, each message JSON ending in a NUL byte), for the
// Privacy Center's browser tests. It is a small equivalent of chromedp
// (the project takes no new modules) and is used from _test.go files
// only, so no binary links it.
package cdp

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// ErrNoChromium says how to get the browser the tests need.
var ErrNoChromium = errors.New("chromium not found on PATH: install it with `apt-get install chromium fonts-noto-cjk` (both are in .ci/debian-packages; `make deps` installs them)")

// Options configures Launch.
type Options struct {
	Lang    string // --lang, e.g. "en-US" or "zh-CN"
	DataDir string // --user-data-dir; required (a test's temp dir)
}

// Browser is one headless chromium process.
type Browser struct {
	cmd  *exec.Cmd
	w    *os.File
	wmu  sync.Mutex
	mu   sync.Mutex
	next int
	wait map[int]chan message
	subs map[string]func(method string, params json.RawMessage) // by session id
	done chan struct{}
	err  error
}

type message struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *Error          `json:"error,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
}

// Error is an error the browser returned for a command.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return fmt.Sprintf("cdp: %s (%d)", e.Message, e.Code) }

// Launch starts chromium. The caller must Close it.
func Launch(o Options) (*Browser, error) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		return nil, ErrNoChromium
	}
	if o.DataDir == "" {
		return nil, errors.New("cdp: Options.DataDir is required")
	}
	args := []string{
		"--headless", "--remote-debugging-pipe", "--user-data-dir=" + o.DataDir,
		"--disable-gpu", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--mute-audio", "--hide-scrollbars", "--force-color-profile=srgb",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--no-sandbox") // chromium refuses to run as root with its sandbox
	}
	if o.Lang != "" {
		args = append(args, "--lang="+o.Lang, "--accept-lang="+o.Lang)
	}
	args = append(args, "about:blank")
	// fd 3: chromium reads commands; fd 4: chromium writes.
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		cmdR.Close()
		cmdW.Close()
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.ExtraFiles = []*os.File{cmdR, outW}
	cmd.Env = append(os.Environ(), "LANGUAGE="+o.Lang)
	if err := cmd.Start(); err != nil {
		cmdR.Close()
		cmdW.Close()
		outR.Close()
		outW.Close()
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	cmdR.Close()
	outW.Close()
	b := &Browser{cmd: cmd, w: cmdW, wait: map[int]chan message{}, subs: map[string]func(string, json.RawMessage){}, done: make(chan struct{})}
	go b.read(outR)
	return b, nil
}

func (b *Browser) read(r *os.File) {
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	var err error
	for {
		var line []byte
		line, err = br.ReadBytes(0)
		if err != nil {
			break
		}
		var m message
		if json.Unmarshal(line[:len(line)-1], &m) != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch := b.wait[m.ID]; ch != nil {
				ch <- m
				delete(b.wait, m.ID)
			}
		} else if fn := b.subs[m.SessionID]; fn != nil {
			fn(m.Method, m.Params)
		}
		b.mu.Unlock()
	}
	b.mu.Lock()
	b.err = fmt.Errorf("chromium closed the pipe: %w", err)
	b.mu.Unlock()
	close(b.done)
}

// call sends a command (to a page when session is set) and decodes its
// result into out.
func (b *Browser) call(ctx context.Context, session, method string, params, out any) error {
	ch := make(chan message, 1)
	b.mu.Lock()
	if b.err != nil {
		b.mu.Unlock()
		return b.err
	}
	b.next++
	id := b.next
	b.wait[id] = ch
	b.mu.Unlock()
	req := map[string]any{"id": id, "method": method}
	if params != nil {
		req["params"] = params
	}
	if session != "" {
		req["sessionId"] = session
	}
	raw, err := json.Marshal(req)
	if err != nil {
		return err
	}
	b.wmu.Lock()
	_, err = b.w.Write(append(raw, 0))
	b.wmu.Unlock()
	if err != nil {
		return fmt.Errorf("cdp %s: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("%s: %w", method, m.Error)
		}
		if out != nil {
			return json.Unmarshal(m.Result, out)
		}
		return nil
	case <-b.done:
		return fmt.Errorf("cdp %s: %w", method, b.err)
	case <-ctx.Done():
		return fmt.Errorf("cdp %s: %w", method, ctx.Err())
	}
}

// Close ends the browser: politely, then by killing its process.
func (b *Browser) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	b.call(ctx, "", "Browser.close", nil, nil)
	b.w.Close()
	exited := make(chan error, 1)
	go func() { exited <- b.cmd.Wait() }()
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		b.cmd.Process.Kill()
		<-exited
	}
	return nil
}

// Page is one tab.
type Page struct {
	b       *Browser
	session string

	mu       sync.Mutex
	problems []string // console errors, exceptions, error log entries
	requests []string // URLs the page requested (Network.enable)
}

// NewPage opens a tab and enables the domains the tests read events of.
func (b *Browser) NewPage(ctx context.Context) (*Page, error) {
	var t struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &t); err != nil {
		return nil, err
	}
	var a struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": t.TargetID, "flatten": true}, &a); err != nil {
		return nil, err
	}
	p := &Page{b: b, session: a.SessionID}
	b.mu.Lock()
	b.subs[a.SessionID] = p.event
	b.mu.Unlock()
	for _, d := range []string{"Page.enable", "Runtime.enable", "Log.enable", "Network.enable"} {
		if err := p.Call(ctx, d, nil, nil); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *Page) event(method string, params json.RawMessage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch method {
	case "Runtime.consoleAPICalled":
		var e struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		json.Unmarshal(params, &e)
		if e.Type == "error" || e.Type == "assert" {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, fmt.Sprint(a.Value)+a.Description)
			}
			p.problems = append(p.problems, "console."+e.Type+": "+strings.Join(parts, " "))
		}
	case "Runtime.exceptionThrown":
		var e struct {
			Details struct {
				Text      string `json:"text"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		json.Unmarshal(params, &e)
		p.problems = append(p.problems, "exception: "+e.Details.Text+" "+e.Details.Exception.Description)
	case "Log.entryAdded":
		var e struct {
			Entry struct {
				Level  string `json:"level"`
				Source string `json:"source"`
				Text   string `json:"text"`
				URL    string `json:"url"`
			} `json:"entry"`
		}
		json.Unmarshal(params, &e)
		if e.Entry.Level == "error" {
			p.problems = append(p.problems, "log "+e.Entry.Source+": "+e.Entry.Text+" "+e.Entry.URL)
		}
	case "Network.requestWillBeSent":
		var e struct {
			Request struct {
				URL string `json:"url"`
			} `json:"request"`
		}
		json.Unmarshal(params, &e)
		p.requests = append(p.requests, e.Request.URL)
	}
}

// Problems returns the console errors, uncaught exceptions and error log
// entries (CSP violations, failed loads) seen so far.
func (p *Page) Problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.problems...)
}

// Requests returns the URLs the page requested so far.
func (p *Page) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

// Call sends a command to this page.
func (p *Page) Call(ctx context.Context, method string, params, out any) error {
	return p.b.call(ctx, p.session, method, params, out)
}

// Navigate loads url.
func (p *Page) Navigate(ctx context.Context, url string) error {
	var r struct {
		ErrorText string `json:"errorText"`
	}
	if err := p.Call(ctx, "Page.navigate", map[string]any{"url": url}, &r); err != nil {
		return err
	}
	if r.ErrorText != "" {
		return fmt.Errorf("navigate %s: %s", url, r.ErrorText)
	}
	return nil
}

// Eval evaluates a JavaScript expression (awaiting a promise) and
// decodes its value into out.
func (p *Page) Eval(ctx context.Context, expr string, out any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := p.Call(ctx, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}, &r); err != nil {
		return err
	}
	if r.Exception != nil {
		return fmt.Errorf("evaluate %q: %s %s", expr, r.Exception.Text, r.Exception.Exception.Description)
	}
	if out == nil || len(r.Result.Value) == 0 {
		return nil
	}
	return json.Unmarshal(r.Result.Value, out)
}

// WaitFor polls expr until it is true, or ctx ends.
func (p *Page) WaitFor(ctx context.Context, expr string) error {
	for {
		var ok bool
		err := p.Eval(ctx, "!!("+expr+")", &ok)
		if err == nil && ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last error %v)", expr, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// SetViewport emulates a screen of w×h CSS pixels.
func (p *Page) SetViewport(ctx context.Context, w, h int, mobile bool) error {
	return p.Call(ctx, "Emulation.setDeviceMetricsOverride", map[string]any{"width": w, "height": h, "deviceScaleFactor": 1, "mobile": mobile}, nil)
}

// Offline cuts the page's network (file:// still loads).
func (p *Page) Offline(ctx context.Context) error {
	return p.Call(ctx, "Network.emulateNetworkConditions", map[string]any{"offline": true, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}, nil)
}

// Screenshot returns a PNG of the page (the whole page when full).
func (p *Page) Screenshot(ctx context.Context, full bool) ([]byte, error) {
	var r struct {
		Data string `json:"data"`
	}
	if err := p.Call(ctx, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": full}, &r); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(r.Data)
}
