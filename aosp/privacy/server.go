package privacy

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"path"
	"strings"
	"time"

	"permd/framework/client"
	"permd/framework/protocol"
)

// CSP is the Content-Security-Policy of every response: only this
// server's own script, style and API; no inline code, no frames, no
// forms posting elsewhere, nothing from the network.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// maxRequest bounds an API request body: the pages send small calls.
const maxRequest = 64 << 10

// Server serves the pages and a fixed list of methods (Methods) under a
// random per-run token: http://127.0.0.1:PORT/TOKEN/. Everything else,
// including any request without the token, is refused. It must listen
// on loopback only (Listen); it also refuses Host headers that are not
// loopback, so a web page elsewhere cannot reach it by DNS rebinding.
type Server struct {
	src    Source
	token  string
	log    *slog.Logger
	assets http.Handler
}

// NewServer returns a server for src with a fresh random token.
func NewServer(src Source, log *slog.Logger) (*Server, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("make token: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{src: src, token: hex.EncodeToString(b), log: log, assets: http.FileServerFS(Assets())}, nil
}

// Token is this run's secret path element.
func (s *Server) Token() string { return s.token }

// URL is the address to open for a listener at addr.
func (s *Server) URL(addr net.Addr) string { return "http://" + addr.String() + "/" + s.token + "/" }

// Listen binds addr (host:port, port 0 for any) and refuses any address
// that is not a loopback IP: the record of a person's phone is not for
// the local network.
func Listen(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil, fmt.Errorf("listen address %q: name an IP (127.0.0.1 or [::1]), not localhost, so that the bound address is certain", addr)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("listen address %q: not a loopback IP; the privacy center serves only this machine (127.0.0.1 or [::1])", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	return ln, nil
}

// Serve serves on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			hs.Shutdown(sctx)
			cancel()
			hs.Close()
		case <-done:
		}
	}()
	err := hs.Serve(ln)
	close(done)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func loopbackHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// ServeHTTP checks host and token, then serves an asset, the API or the
// indicator stream.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer") // the token is in the URL
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	if !loopbackHost(r.Host) {
		http.Error(w, "refused: Host is not a loopback address", http.StatusForbidden)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/")
	tok, rest, _ := strings.Cut(rest, "/")
	if !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) != 1 {
		http.Error(w, "refused: missing or wrong token (open the URL permctl ui printed)", http.StatusForbidden)
		return
	}
	if rest == "" && !strings.HasSuffix(r.URL.Path, "/") {
		http.Redirect(w, r, "/"+s.token+"/", http.StatusFound)
		return
	}
	switch rest {
	case "api":
		s.api(w, r)
		return
	case "events":
		s.events(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if ct := mime.TypeByExtension(path.Ext(rest)); ct != "" {
		hd.Set("Content-Type", ct)
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + rest
	s.assets.ServeHTTP(w, r2)
}

// apiRequest is one call from a page.
type apiRequest struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed: POST a call", http.StatusMethodNotAllowed)
		return
	}
	// A JSON content type cannot be sent by a plain HTML form, so a
	// cross-site form cannot post here even if it guessed the token.
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		http.Error(w, "refused: Content-Type must be application/json", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequest+1))
	if err != nil {
		http.Error(w, "read request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > maxRequest {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return
	}
	var req apiRequest
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "request is not a JSON call: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if !Allowed(req.Method) {
		w.WriteHeader(http.StatusForbidden)
		writeJSON(w, map[string]any{"error": map[string]any{"code": protocol.CodeMethodNotFound,
			"message": fmt.Sprintf("method %q is not served by the privacy center (allowed: %s)", req.Method, strings.Join(Methods, ", "))}})
		return
	}
	res, err := s.src.Call(r.Context(), req.Method, req.Params)
	if err != nil {
		var re *client.RPCError
		if !errors.As(err, &re) {
			s.log.Warn("privacy center call failed", "method", req.Method, "err", err)
			re = &client.RPCError{Code: protocol.CodeUnavailable, Message: err.Error()}
		}
		writeJSON(w, map[string]any{"error": re})
		return
	}
	writeJSON(w, map[string]json.RawMessage{"result": res})
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// events streams indicator snapshots as server-sent events; a failure
// is sent as a "fail" event so the page can say why it stopped.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	sub, ok := s.src.(Subscriber)
	fl, canFlush := w.(http.Flusher)
	if !ok || !canFlush {
		http.Error(w, "no live indicator from this source", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	err := sub.SubscribeIndicator(r.Context(), func(snap json.RawMessage) error {
		if _, err := fmt.Fprintf(w, "data: %s\n\n", compact(snap)); err != nil {
			return err
		}
		fl.Flush()
		return nil
	})
	if err != nil && r.Context().Err() == nil {
		b, _ := json.Marshal(map[string]string{"message": err.Error()})
		fmt.Fprintf(w, "event: fail\ndata: %s\n\n", b)
		fl.Flush()
	}
}

// compact keeps a snapshot on one line, as an SSE data field needs.
func compact(raw json.RawMessage) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}
