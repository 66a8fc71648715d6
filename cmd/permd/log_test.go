package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLogsGoToLogd runs the daemon with --log logd against a real
// datagram socket at <root>/dev/socket/logdw and reads its start line
// there, tagged permd at priority I (4), decoded from the wire format.
func TestLogsGoToLogd(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "dev", "socket"), 0o755)
	os.MkdirAll(filepath.Join(root, "proc"), 0o755)
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(root, "dev", "socket", "logdw"), Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dir := t.TempDir()
	c, err := parseFlags([]string{"--root", root, "--log", "logd", "--config-dir", "embedded",
		"--data-dir", filepath.Join(dir, "data"), "--socket", filepath.Join(dir, "permd.sock")}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, c, io.Discard) }()
	defer func() {
		cancel()
		<-done
	}()
	buf := make([]byte, 8192)
	l.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		n, err := l.Read(buf)
		if err != nil {
			t.Fatalf("no \"permd serving\" line on the logd socket: %v", err)
		}
		p := buf[:n]
		// header 11 bytes, then priority, tag NUL, message NUL.
		if len(p) < 14 || p[0] != 0 {
			t.Fatalf("datagram %q is not a main-buffer logdw packet", p)
		}
		tag, msg, _ := strings.Cut(string(p[12:]), "\x00")
		if tag != "permd" {
			t.Fatalf("tag %q, want permd", tag)
		}
		if strings.HasPrefix(msg, "permd serving ") {
			if p[11] != 4 {
				t.Errorf("priority %d, want 4 (I)", p[11])
			}
			return
		}
	}
}

func TestLogFlag(t *testing.T) {
	var errb bytes.Buffer
	for _, to := range []string{"auto", "stderr"} {
		c := config{logTo: to, root: t.TempDir()}
		if _, err := logHandler(c, &errb); err != nil {
			t.Errorf("--log %s on a host: %v", to, err)
		}
	}
	if _, err := logHandler(config{logTo: "logd", root: t.TempDir()}, &errb); err == nil || !strings.Contains(err.Error(), "--log logd") {
		t.Errorf("--log logd without a socket: %v, want an error naming the flag", err)
	}
	if _, err := logHandler(config{logTo: "syslog"}, &errb); err == nil {
		t.Error("--log syslog accepted")
	}
}
