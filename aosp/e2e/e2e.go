// Package e2e holds permd's end-to-end scenarios, written once and run
// through a transport: "local" starts a host-mode daemon (CI), "adb"
// talks to the daemon on a device or Cuttlefish by running permctl
// through adb shell. The scenarios only use the JSON-RPC protocol, so they
// test exactly what the framework, Settings and SystemUI will see.
package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"permd/framework/protocol"
)

// Transport reaches one running permd.
type Transport interface {
	// Name says what is under test, for the report.
	Name() string
	// Start makes the daemon reachable (starting it where the transport
	// owns it).
	Start(ctx context.Context) error
	// Call sends one request; a JSON-RPC error comes back as *RPCError.
	Call(ctx context.Context, method string, params, result any) error
	// Apps lists at least two installed apps (uid and package) the
	// scenarios may act for: the first is the subject, the second the
	// caller of an associated start.
	Apps(ctx context.Context) ([]App, error)
	// Stop stops what Start started and reports whether it ended cleanly.
	Stop(ctx context.Context) error
}

// App is an installed app.
type App struct {
	UID     int
	Package string
}

// RPCError is a JSON-RPC error reply.
type RPCError struct {
	Code    int
	Message string
}

func (e *RPCError) Error() string { return fmt.Sprintf("%s (code %d)", e.Message, e.Code) }

// CodeMethodNotFound is JSON-RPC's "method not found": the part that
// serves the method is not in this build.
const CodeMethodNotFound = protocol.CodeMethodNotFound

// Result is one scenario's outcome.
type Result struct {
	Scenario string
	Status   string // PASS, FAIL, SKIP
	Detail   string
	Missing  string // for FAIL: the method the daemon does not have, if that was the cause
	Took     time.Duration
}

// Scenario is one end-to-end check.
type Scenario struct {
	Name string
	Run  func(ctx context.Context, s *Session) error
}

// Session is what a scenario gets: the transport and the app it acts for.
type Session struct {
	T      Transport
	UID    int    // the subject app
	Pkg    string //
	Caller App    // another app, the caller of an associated start
	Role   string // the role permd gave this transport's client
	log    io.Writer
}

// Logf prints a progress line under the scenario.
func (s *Session) Logf(format string, args ...any) {
	fmt.Fprintf(s.log, "      "+format+"\n", args...)
}

// call wraps Transport.Call with the method named in errors.
func (s *Session) call(ctx context.Context, method string, params, result any) error {
	if err := s.T.Call(ctx, method, params, result); err != nil {
		return &callError{method: method, err: err}
	}
	return nil
}

type callError struct {
	method string
	err    error
}

func (e *callError) Error() string { return e.method + ": " + e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

// skipError marks a scenario that cannot run on this transport.
type skipError struct{ reason string }

func (e *skipError) Error() string { return e.reason }

func skipf(format string, args ...any) error { return &skipError{fmt.Sprintf(format, args...)} }

// needRole skips unless permd gave the client one of roles.
func (s *Session) needRole(roles ...string) error {
	for _, r := range roles {
		if s.Role == r {
			return nil
		}
	}
	return skipf("needs role %s; this transport's client has role %q (on a device use --private, see docs/aosp.md)", strings.Join(roles, " or "), s.Role)
}

// Run starts the transport, runs the scenarios in order, stops the
// transport, and writes one line per scenario and a summary to w.
func Run(ctx context.Context, t Transport, scenarios []Scenario, w io.Writer) ([]Result, error) {
	fmt.Fprintf(w, "permd e2e: transport %s\n", t.Name())
	if err := t.Start(ctx); err != nil {
		return nil, fmt.Errorf("start %s: %w", t.Name(), err)
	}
	stopped := false
	defer func() {
		if !stopped {
			t.Stop(context.Background())
		}
	}()
	s := &Session{T: t, log: w}
	var h protocol.Health
	if err := t.Call(ctx, protocol.MethodSysHealth, nil, &h); err != nil {
		return nil, fmt.Errorf("sys.health: %w", err)
	}
	s.Role = string(h.You.Role)
	apps, err := t.Apps(ctx)
	if err != nil {
		return nil, fmt.Errorf("pick apps: %w", err)
	}
	if len(apps) < 2 {
		return nil, fmt.Errorf("pick apps: need two installed apps, found %d", len(apps))
	}
	s.UID, s.Pkg, s.Caller = apps[0].UID, apps[0].Package, apps[1]
	fmt.Fprintf(w, "  client role %s; acting for app %s (uid %d), caller %s (uid %d)\n", s.Role, s.Pkg, s.UID, s.Caller.Package, s.Caller.UID)

	var results []Result
	for _, sc := range scenarios {
		start := time.Now()
		fmt.Fprintf(w, "  %s\n", sc.Name)
		sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		err := sc.Run(sctx, s)
		cancel()
		r := Result{Scenario: sc.Name, Status: "PASS", Took: time.Since(start)}
		var skip *skipError
		var rpc *RPCError
		var ce *callError
		switch {
		case err == nil:
		case errors.As(err, &skip):
			r.Status, r.Detail = "SKIP", skip.reason
		case errors.As(err, &rpc) && rpc.Code == CodeMethodNotFound:
			r.Status = "FAIL"
			r.Detail = err.Error() + ": the daemon does not serve this method (part missing from this build?)"
			if errors.As(err, &ce) {
				r.Missing = ce.method
			}
		default:
			r.Status, r.Detail = "FAIL", err.Error()
		}
		results = append(results, r)
		line := fmt.Sprintf("    %s (%s)", r.Status, r.Took.Round(time.Millisecond))
		if r.Detail != "" {
			line += ": " + r.Detail
		}
		fmt.Fprintln(w, line)
	}
	stopped = true
	if err := t.Stop(ctx); err != nil {
		results = append(results, Result{Scenario: "daemon stops cleanly", Status: "FAIL", Detail: err.Error()})
		fmt.Fprintf(w, "  daemon stops cleanly\n    FAIL: %v\n", err)
	}
	var pass, fail, skip int
	for _, r := range results {
		switch r.Status {
		case "PASS":
			pass++
		case "FAIL":
			fail++
		default:
			skip++
		}
	}
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", pass, fail, skip)
	return results, nil
}

// rawJSON is a decoded JSON value for tolerant checks.
type rawJSON = map[string]any

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
