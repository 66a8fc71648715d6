package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"permd/aosp/wait"
	"permd/framework"
	"permd/framework/client"
	"permd/framework/frameworktest"
	"permd/framework/frameworktest/harness"
)

func startUse(t *testing.T, socket string, params map[string]any) uint64 {
	t.Helper()
	c, err := client.Dial(context.Background(), socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var st struct{ Use uint64 }
	if err := c.Call(context.Background(), "op.start", params, &st); err != nil {
		t.Fatalf("op.start: %v", err)
	}
	return st.Use
}

func TestIndicatorsShowsCurrentState(t *testing.T) {
	d := frameworktest.Start(t, frameworktest.Options{})
	startUse(t, d.Socket, map[string]any{"resource": "camera", "uid": 10123, "package": "com.example.cam", "via": []map[string]any{{"uid": 1047, "package": "cameraserver"}}})
	code, out, errs := permctl(t, d.Socket, "indicators")
	if code != exitOK {
		t.Fatalf("indicators: code %d %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "RESOURCE") ||
		!strings.Contains(lines[1], "camera") || !strings.Contains(lines[1], " on ") || !strings.Contains(lines[1], "com.example.cam") || !strings.Contains(lines[1], "cameraserver(1047)") ||
		!strings.Contains(lines[2], "microphone") || !strings.Contains(lines[2], "off") {
		t.Fatalf("indicators output:\n%s", out)
	}
	code, out, _ = permctl(t, d.Socket, "indicators", "--lang", "zh-CN")
	if code != exitOK || !strings.Contains(out, "camera (相机)") {
		t.Fatalf("indicators --lang zh-CN: %d\n%s", code, out)
	}
	code, out, _ = permctl(t, d.Socket, "--json", "indicators")
	if code != exitOK || !strings.Contains(out, `"package": "com.example.cam"`) {
		t.Fatalf("--json indicators: %d\n%s", code, out)
	}
	code, _, errs = permctl(t, d.Socket, "indicators", "--lang", "fr")
	if code != exitUsage || !strings.Contains(errs, "--lang") {
		t.Fatalf("bad --lang: code %d %q", code, errs)
	}
}

func TestIndicatorsWatchStreamsUntilInterrupted(t *testing.T) {
	t.Run("lines", func(t *testing.T) {
		testWatch(t, nil, "camera=off microphone=off location=off", "microphone=on[com.rec(10200)]", "seq ")
	})
	t.Run("json", func(t *testing.T) {
		testWatch(t, []string{"--json"}, `"resource":"camera"`, `"package":"com.rec"`, `{"resources":`)
	})
}

func testWatch(t *testing.T, global []string, first, after, prefix string) {
	d := frameworktest.Start(t, frameworktest.Options{Config: map[string]string{"indicator.json": `{"version":1,"hold":"0s"}`}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &harness.Buffer{}
	var errb strings.Builder
	done := make(chan int, 1)
	go func() {
		env := func(k string) string {
			if k == "PERMD_SOCKET" {
				return d.Socket
			}
			return ""
		}
		done <- run(ctx, append(global, "indicators", "--watch"), out, &errb, env)
	}()
	shows := func(what string) {
		t.Helper()
		wait.UntilSeen(t, fmt.Sprintf("%q in the watch output", what), func() (bool, string) {
			s := out.String()
			return strings.Contains(s, what), s
		})
	}
	shows(first)
	startUse(t, d.Socket, map[string]any{"resource": "microphone", "uid": 10200, "package": "com.rec"})
	shows(after)
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("watch exit code %d: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not stop when interrupted")
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], prefix) || !strings.HasPrefix(lines[len(lines)-1], prefix) ||
		(prefix == `{"resources":` && !strings.Contains(lines[len(lines)-1], `"time_ms":`)) {
		t.Fatalf("watch lines:\n%s", out.String())
	}
}

// TestIndicatorsWatchReconnects: when permd restarts, --watch says so,
// reconnects to the new daemon and goes on streaming its changes.
func TestIndicatorsWatchReconnects(t *testing.T) {
	d := frameworktest.Start(t, frameworktest.Options{Config: map[string]string{"indicator.json": `{"version":1,"hold":"0s"}`}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, errb := &harness.Buffer{}, &harness.Buffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"indicators", "--watch"}, out, errb, func(k string) string {
			if k == "PERMD_SOCKET" {
				return d.Socket
			}
			return ""
		})
	}()
	shows := func(b *harness.Buffer, what string) {
		t.Helper()
		wait.WithinSeen(t, 20*time.Second, fmt.Sprintf("%q", what), func() (bool, string) {
			return strings.Contains(b.String(), what), "stdout:\n" + out.String() + "\nstderr:\n" + errb.String()
		})
	}
	shows(out, "camera=off")
	d.Stop(t)
	shows(errb, "permctl: lost permd")
	// The same daemon comes back on the same socket, config and data.
	svc, err := framework.New(framework.Options{Root: d.Root, DataDir: d.DataDir, ConfigDir: d.ConfigDir, SocketPath: d.Socket, Version: "test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	sdone := make(chan error, 1)
	go func() { sdone <- svc.Run(sctx) }()
	defer func() {
		stop()
		<-sdone
	}()
	shows(errb, "permctl: reconnected to permd")
	startUse(t, d.Socket, map[string]any{"resource": "microphone", "uid": 10200, "package": "com.rec"})
	shows(out, "microphone=on[com.rec(10200)]")
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("watch exit %d: %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not stop when interrupted")
	}
}
