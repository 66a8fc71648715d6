package framework

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"permd/aosp/wait"
	"permd/framework/client"
)

// TestRolesGetExactlyTheirMethods starts real processes with other
// credentials and checks, for every method in the table, that a caller
// is refused exactly when its role is not listed for the method.
func TestRolesGetExactlyTheirMethods(t *testing.T) {
	requireRoot(t)
	ts := startTestService(t, testOptions{})
	if err := os.Chown(ts.socket, 0, socketGID); err != nil {
		t.Fatal(err)
	}
	exe := selfExecutable(t)
	methods := make([]string, 0, len(ts.svc.server.methods))
	for name := range ts.svc.server.methods {
		methods = append(methods, name)
	}
	sort.Strings(methods)

	for _, tc := range []struct {
		uid  int
		role Role
	}{
		{uidFramework, RoleFramework},
		{uidPermUI, RolePermissionUI},
		{uidSettings, RoleSettings},
		{uidSystemUI, RoleSystemUI},
		{uidShell, RoleShell},
		{uidApp, RoleApp},
	} {
		t.Run(string(tc.role), func(t *testing.T) {
			role, codes := runAs(t, exe, tc.uid, ts.socket, methods)
			if role != tc.role {
				t.Fatalf("uid %d got role %q, want %q", tc.uid, role, tc.role)
			}
			for _, m := range methods {
				allowed := ts.svc.server.methods[m].Allows(tc.role)
				denied := codes[m] == CodePermissionDenied
				if allowed == denied {
					t.Errorf("%s as %s: code %d, want allowed=%v", m, tc.role, codes[m], allowed)
				}
			}
		})
	}
}

// TestSocketModeKeepsOthersOut checks that the bound socket is 0660: a
// process outside its group cannot even connect.
func TestSocketModeKeepsOthersOut(t *testing.T) {
	ts := startTestService(t, testOptions{})
	fi, err := os.Stat(ts.socket)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o660 {
		t.Fatalf("socket mode %o, want 660", got)
	}
}

// TestAppSeesOnlyItsIdentity: roles come from the kernel, never from the
// request: a client claiming to be the framework in its params stays
// what its credentials say.
func TestClaimsInParamsAreIgnored(t *testing.T) {
	ts := startTestService(t, testOptions{})
	c := ts.dial(t)
	err := c.Call(context.Background(), "sys.health", map[string]any{"uid": 1000, "role": "framework"}, nil)
	if rpcCode(err) != CodeInvalidParams || !strings.Contains(err.Error(), "unknown field") {
		t.Fatalf("claimed identity in params: got %v, want invalid params naming the field", err)
	}
}

// rawConn is a client speaking bytes, for malformed input.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func dialRaw(t *testing.T, socket string) *rawConn {
	t.Helper()
	nc, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	r := bufio.NewReaderSize(nc, 1<<20)
	return &rawConn{t: t, nc: nc, r: r}
}

func (rc *rawConn) send(s string) {
	rc.t.Helper()
	if _, err := rc.nc.Write([]byte(s)); err != nil {
		rc.t.Fatalf("write: %v", err)
	}
}

// reply reads one response line.
func (rc *rawConn) reply() map[string]any {
	rc.t.Helper()
	rc.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := rc.r.ReadBytes('\n')
	if err != nil {
		rc.t.Fatalf("read reply: %v (got %q)", err, line)
	}
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		rc.t.Fatalf("reply %q is not JSON: %v", line, err)
	}
	return m
}

func errCode(m map[string]any) int {
	e, _ := m["error"].(map[string]any)
	if e == nil {
		return 0
	}
	return int(e["code"].(float64))
}

func TestBadInput(t *testing.T) {
	ts := startTestService(t, testOptions{})
	healthy := func(t *testing.T) {
		t.Helper()
		var h Health
		if err := ts.call(t, "sys.health", nil, &h); err != nil || h.Status != "ok" {
			t.Fatalf("daemon unhealthy after bad input: %v %+v", err, h)
		}
	}

	t.Run("errors keep the connection usable", func(t *testing.T) {
		rc := dialRaw(t, ts.socket)
		cases := []struct {
			line string
			code int
		}{
			{`{"jsonrpc":"2.0","id":1,"method":`, CodeParseError},
			{`not json at all`, CodeParseError},
			{`{"jsonrpc":"2.0","id":2,"method":"no.such"}`, CodeMethodNotFound},
			{`{"jsonrpc":"2.0","id":3,"method":"sys.health","params":{"bogus":1}}`, CodeInvalidParams},
			{`{"jsonrpc":"2.0","id":4,"method":"sys.health","params":[1,2]}`, CodeInvalidParams},
			{`{"jsonrpc":"1.0","id":5,"method":"sys.health"}`, CodeInvalidRequest},
			{`{"jsonrpc":"2.0","id":{"x":1},"method":"sys.health"}`, CodeInvalidRequest},
			{`[]`, CodeInvalidRequest},
			{`42`, CodeInvalidRequest},
			{"\x00\xff\xfe garbage \x01", CodeParseError},
		}
		for _, c := range cases {
			rc.send(c.line + "\n")
			if got := errCode(rc.reply()); got != c.code {
				t.Errorf("%q: code %d, want %d", c.line, got, c.code)
			}
		}
		// Same connection still serves.
		rc.send(`{"jsonrpc":"2.0","id":"after","method":"sys.version"}` + "\n")
		r := rc.reply()
		if r["id"] != "after" || r["result"] == nil {
			t.Fatalf("connection unusable after bad input: %v", r)
		}
	})

	t.Run("invalid params name the field", func(t *testing.T) {
		rc := dialRaw(t, ts.socket)
		rc.send(`{"jsonrpc":"2.0","id":1,"method":"sys.health","params":{"verbose":true}}` + "\n")
		e := rc.reply()["error"].(map[string]any)
		if !strings.Contains(e["message"].(string), "verbose") {
			t.Fatalf("error %v does not name the field", e)
		}
	})

	t.Run("batch", func(t *testing.T) {
		rc := dialRaw(t, ts.socket)
		rc.send(`[{"jsonrpc":"2.0","id":1,"method":"sys.version"},{"jsonrpc":"2.0","method":"sys.version"},{"jsonrpc":"2.0","id":2,"method":"nope"},"x"]` + "\n")
		rc.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, err := rc.r.ReadBytes('\n')
		if err != nil {
			t.Fatal(err)
		}
		var out []map[string]any
		if err := json.Unmarshal(line, &out); err != nil {
			t.Fatalf("batch reply %q: %v", line, err)
		}
		if len(out) != 3 { // the notification gets no reply
			t.Fatalf("batch reply has %d entries, want 3: %s", len(out), line)
		}
		if out[0]["result"] == nil || errCode(out[1]) != CodeMethodNotFound || errCode(out[2]) != CodeInvalidRequest {
			t.Fatalf("batch reply wrong: %s", line)
		}
	})

	t.Run("10 MiB line closes cleanly", func(t *testing.T) {
		rc := dialRaw(t, ts.socket)
		big := `{"jsonrpc":"2.0","id":1,"method":"sys.health","params":{"x":"` + strings.Repeat("a", 10<<20) + `"}}` + "\n"
		go rc.nc.Write([]byte(big)) // the daemon stops reading; don't block on it
		r := rc.reply()
		if errCode(r) != CodeTooLarge {
			t.Fatalf("oversized line: %v, want code %d", r, CodeTooLarge)
		}
		rc.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := rc.r.ReadByte(); err == nil {
			t.Fatal("connection still open after oversized line")
		}
		healthy(t)
	})

	t.Run("half a line then stall", func(t *testing.T) {
		rc := dialRaw(t, ts.socket)
		rc.send(`{"jsonrpc":"2.0","id":1,"meth`)
		// The test config's read_timeout is 300ms: the daemon must close.
		rc.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := rc.r.ReadByte(); err == nil {
			t.Fatal("stalled half-line connection was not closed")
		}
		healthy(t)
	})

	t.Run("disconnect mid-request", func(t *testing.T) {
		for range 50 {
			nc, err := net.Dial("unix", ts.socket)
			if err != nil {
				t.Fatal(err)
			}
			nc.Write([]byte(`{"jsonrpc":"2.0","id":1,"method":"sys.health"}` + "\n" + `{"jsonrpc":"2.0","id":2,"me`))
			nc.Close()
		}
		healthy(t)
	})

	t.Run("1000 connections at once", func(t *testing.T) {
		var conns []net.Conn
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range 1000 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				nc, err := net.Dial("unix", ts.socket)
				if err == nil {
					mu.Lock()
					conns = append(conns, nc)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		// Count how the daemon treated them: each is either served or
		// told why it was refused; none hangs.
		var served, refused int
		for _, nc := range conns {
			nc.SetDeadline(time.Now().Add(10 * time.Second))
			nc.Write([]byte(`{"jsonrpc":"2.0","id":1,"method":"sys.version"}` + "\n"))
		}
		for _, nc := range conns {
			line, err := bufio.NewReader(nc).ReadBytes('\n')
			var m map[string]any
			switch {
			case err == nil && json.Unmarshal(line, &m) == nil && m["result"] != nil:
				served++
			case err == nil && errCode(m) == CodeOverloaded:
				refused++
			default:
				// A refused peer may see the reset before the reason.
				refused++
			}
		}
		lim := DefaultLimits()
		if served != lim.MaxConnectionsPerUID {
			t.Errorf("served %d connections from one uid, want the per-uid limit %d", served, lim.MaxConnectionsPerUID)
		}
		if served+refused != len(conns) {
			t.Errorf("served %d + refused %d != %d", served, refused, len(conns))
		}
		for _, nc := range conns {
			nc.Close()
		}
		wait.Until(t, "flood connections released", func() bool { return ts.svc.server.connCount() == 0 })
		healthy(t)
	})
}

// TestOtherUIDServedDuringFlood: one uid exhausting its connection quota
// does not lock out another.
func TestOtherUIDServedDuringFlood(t *testing.T) {
	requireRoot(t)
	ts := startTestService(t, testOptions{})
	os.Chown(ts.socket, 0, socketGID)
	exe := selfExecutable(t)
	var conns []net.Conn
	for range DefaultLimits().MaxConnectionsPerUID + 10 {
		nc, err := net.Dial("unix", ts.socket)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		conns = append(conns, nc)
	}
	wait.Until(t, "flood admitted", func() bool { return ts.svc.server.connCount() >= DefaultLimits().MaxConnectionsPerUID })
	role, codes := runAs(t, exe, uidShell, ts.socket, []string{"sys.version"})
	if role != RoleShell || codes["sys.version"] != 0 {
		t.Fatalf("shell client during root flood: role %s codes %v", role, codes)
	}
}

func TestConfigReload(t *testing.T) {
	ts := startTestService(t, testOptions{})
	role := func() Role {
		var h Health
		if err := ts.call(t, "sys.health", nil, &h); err != nil {
			t.Fatal(err)
		}
		return h.You.Role
	}
	if r := role(); r != RoleRoot {
		t.Fatalf("root's role %q, want root", r)
	}
	// A valid change takes effect for new connections without restart.
	ts.writeConfig(t, MainFile, strings.Replace(testRolesJSON, `{"uid": 0, "role": "root"}`, `{"uid": 0, "role": "settings"}`, 1))
	wait.Until(t, "valid config applied", func() bool { return role() == RoleSettings })

	// An invalid one is rejected, named in the log, and the old one stays.
	rejects := ts.svc.configRejects.Load()
	ts.writeConfig(t, MainFile, strings.Replace(testRolesJSON, `{"uid": 0, "role": "root"}`, `{"uid": 0, "role": "superuser"}`, 1))
	wait.Until(t, "invalid config rejected", func() bool { return ts.svc.configRejects.Load() > rejects })
	if r := role(); r != RoleSettings {
		t.Fatalf("after invalid config role is %q, want the previous settings", r)
	}
	logs := ts.logs.String()
	for _, want := range []string{"config rejected", "file=permd.json", "roles[0].role", "superuser"} {
		if !strings.Contains(logs, want) {
			t.Errorf("rejection log lacks %q", want)
		}
	}
	// Broken JSON too.
	rejects = ts.svc.configRejects.Load()
	ts.writeConfig(t, MainFile, `{"version": 1, "roles": [`)
	wait.Until(t, "broken config rejected", func() bool { return ts.svc.configRejects.Load() > rejects })
	if r := role(); r != RoleSettings {
		t.Fatalf("after broken config role is %q, want settings", r)
	}
	// Limits are validated with the field named.
	rejects = ts.svc.configRejects.Load()
	ts.writeConfig(t, MainFile, `{"version": 1, "roles": [], "limits": {"max_line_bytes": 5}}`)
	wait.Until(t, "bad limit rejected", func() bool { return ts.svc.configRejects.Load() > rejects })
	if !strings.Contains(ts.logs.String(), "limits.max_line_bytes") {
		t.Error("rejection log does not name limits.max_line_bytes")
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		body, field string
	}{
		{`{"version": 2}`, "version"},
		{`{"version": 1, "roles": [{"role": "framework"}]}`, "roles[0]"},
		{`{"version": 1, "roles": [{"uid": -1, "role": "shell"}]}`, "roles[0].uid"},
		{`{"version": 1, "rolez": []}`, "rolez"},
		{`{"version": 1, "limits": {"max_inflight_per_connection": 0}}`, "limits.max_inflight_per_connection"},
		{`{"version": 1, "limits": {"idle_timeout": "soon"}}`, "limits.idle_timeout"},
	} {
		snap := &Snapshot{Files: map[string][]byte{MainFile: []byte(tc.body)}}
		_, err := parseCoreConfig(snap)
		ce, ok := err.(*ConfigError)
		if !ok || ce.Field != tc.field || ce.File != MainFile {
			t.Errorf("%s: got %v, want a ConfigError on field %s", tc.body, err, tc.field)
		}
	}
}

func TestNotificationsAndConcurrency(t *testing.T) {
	ts := startTestService(t, testOptions{})
	c := ts.dial(t)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var v VersionInfo
			if err := c.Call(context.Background(), "sys.version", nil, &v); err != nil || v.Protocol != ProtocolVersion {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent call: %v", err)
	}
	// A notification (no id) gets no reply, even a bad one.
	rc := dialRaw(t, ts.socket)
	rc.send(`{"jsonrpc":"2.0","method":"sys.version"}` + "\n" + `{"jsonrpc":"2.0","method":"no.such"}` + "\n" + `{"jsonrpc":"2.0","id":9,"method":"sys.version"}` + "\n")
	if r := rc.reply(); r["id"] != float64(9) {
		t.Fatalf("first reply %v, want the one for id 9", r)
	}
}

func TestMethodTableRejectsBadRows(t *testing.T) {
	svc := &Service{log: discardLogger()}
	h := func(context.Context, *Call) (any, error) { return nil, nil }
	for _, table := range [][]Method{
		{{Name: "a", Roles: Readers, Handler: h}, {Name: "a", Roles: Readers, Handler: h}},
		{{Name: "b", Handler: h}},
		{{Name: "c", Roles: Readers}},
	} {
		if _, err := newServer(svc, nil, table); err == nil {
			t.Errorf("table %v accepted", table)
		}
	}
}

func TestHandlerPanicIsContained(t *testing.T) {
	res, err := safeCall(func(context.Context, *Call) (any, error) { panic("boom") }, context.Background(), &Call{})
	if res != nil || err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("panic not turned into an error: %v %v", res, err)
	}
	if e := asRPCError(err); e.Code != CodeInternal || strings.Contains(e.Message, "boom") {
		t.Fatalf("panic reached the client as %+v; want a generic internal error", e)
	}
}

func TestClientSeesRefusalReason(t *testing.T) {
	ts := startTestService(t, testOptions{Config: map[string]string{MainFile: `{"version":1,"roles":[{"uid":0,"role":"root"}],"limits":{"max_connections_per_uid":1}}`}})
	c := ts.dial(t)
	if err := c.Call(context.Background(), "sys.version", nil, nil); err != nil {
		t.Fatal(err)
	}
	c2, err := client.Dial(context.Background(), ts.socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	err = c2.Call(context.Background(), "sys.version", nil, nil)
	if rpcCode(err) != CodeOverloaded || !strings.Contains(err.Error(), "too many connections") {
		t.Fatalf("second connection over the limit: %v", err)
	}
}

func TestRoleResolution(t *testing.T) {
	uid := func(u int) *int { return &u }
	rules := []RoleRule{
		{UID: uid(1000), ContextType: "system_server", Role: RoleFramework},
		{UID: uid(1000), ContextType: "system_app", Role: RoleSettings},
		{ContextType: "platform_app", Role: RoleSystemUI},
		{UID: uid(2000), Role: RoleShell},
	}
	for _, tc := range []struct {
		a    Actor
		want Role
	}{
		{Actor{UID: 1000, Context: "u:r:system_server:s0"}, RoleFramework},
		{Actor{UID: 1000, Context: "u:r:system_app:s0"}, RoleSettings},
		{Actor{UID: 1000}, RoleApp}, // uid 1000 without a context is not trusted as framework
		{Actor{UID: 10050, Context: "u:r:platform_app:s0:c512,c768"}, RoleSystemUI},
		{Actor{UID: 2000, Context: "u:r:shell:s0"}, RoleShell},
		{Actor{UID: 10123, Context: "u:r:untrusted_app:s0:c123,c256,c512,c768"}, RoleApp},
		{Actor{UID: 10123, Context: "garbage"}, RoleApp},
	} {
		if got := resolveRole(rules, tc.a); got != tc.want {
			t.Errorf("%+v: role %s, want %s", tc.a, got, tc.want)
		}
	}
	if !slices.Contains(AllRoles, RoleApp) {
		t.Fatal("AllRoles lacks app")
	}
}

// TestNotifyKeepsLinesWholeWhenTheSocketIsFull sends notifications far
// larger than the socket's buffer to a peer that is not reading yet: the
// direct write takes part of a line, the rest must follow before any
// other line, and nothing may block the notifier.
func TestNotifyKeepsLinesWholeWhenTheSocketIsFull(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "pair")
		defer f.Close()
		nc, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		return nc.(*net.UnixConn)
	}
	srv, peer := conn(fds[0]), conn(fds[1])
	defer peer.Close()
	srv.SetWriteBuffer(4096)
	peer.SetReadBuffer(4096)
	lim := DefaultLimits()
	lim.OutQueue = 64
	c := newConn(nil, srv, Actor{}, lim)
	defer c.close()
	const n = 40
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			params := json.RawMessage(fmt.Sprintf(`{"seq":%d,"pad":%q}`, i, strings.Repeat("x", 20000+i)))
			if err := c.notify("test.note", params); err != nil {
				t.Errorf("notification %d: %v", i, err)
			}
			if i == n/2 {
				// A reply blocks on a full socket, as handlers' replies
				// do; it must not cut into a notification either.
				go c.send([]byte(`{"jsonrpc":"2.0","id":1,"result":"interleaved reply"}`+"\n"), true)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("notify blocked on a peer that does not read")
	}
	r := bufio.NewReaderSize(peer, 1<<20)
	peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	next := 0
	for next < n {
		line, err := r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("after notification %d: %v", next, err)
		}
		var m struct {
			Method string `json:"method"`
			Params struct {
				Seq int    `json:"seq"`
				Pad string `json:"pad"`
			} `json:"params"`
			Result string `json:"result"`
		}
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("line after notification %d is not whole JSON: %v (%d bytes)", next, err, len(line))
		}
		if m.Result != "" {
			continue
		}
		if m.Method != "test.note" || m.Params.Seq != next || len(m.Params.Pad) != 20000+next {
			t.Fatalf("want notification %d whole, got seq %d with %d bytes of padding", next, m.Params.Seq, len(m.Params.Pad))
		}
		next++
	}
}
