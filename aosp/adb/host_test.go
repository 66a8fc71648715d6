package adb_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"permd/aosp/adb"
	"permd/aosp/adb/adbtest"
)

var (
	keyOnce sync.Once
	hostKey *adb.Key
	keyErr  error
)

// testKey is one host key for the whole package: RSA generation is slow.
func testKey(t testing.TB) *adb.Key {
	t.Helper()
	keyOnce.Do(func() {
		dir, err := os.MkdirTemp("", "adbkey-")
		if err != nil {
			keyErr = err
			return
		}
		hostKey, keyErr = adb.GenerateKey(filepath.Join(dir, "adbkey"))
		os.RemoveAll(dir)
	})
	if keyErr != nil {
		t.Fatal(keyErr)
	}
	return hostKey
}

// dialDevice starts a test device that authorises testKey and connects.
func dialDevice(t *testing.T) (*adb.Conn, *deviceHandle) {
	t.Helper()
	k := testKey(t)
	d := startDevice(t, &k.Private.PublicKey)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := adb.DialTCP(ctx, d.Addr(), adb.HostOptions{Keys: []*adb.Key{k}})
	if err != nil {
		t.Fatalf("dial test device: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c, &deviceHandle{d.Addr()}
}

type deviceHandle struct{ addr string }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestHostShellExecAndExitStatus(t *testing.T) {
	c, _ := dialDevice(t)
	ctx := testCtx(t)
	if c.State() != "device" || c.Prop("ro.product.model") != "permd_test_model" || !c.HasFeature("shell_v2") {
		t.Errorf("banner: state %q model %q shell_v2 %v from %q", c.State(), c.Prop("ro.product.model"), c.HasFeature("shell_v2"), c.Banner())
	}
	if c.Version() != adb.VersionSkipChecksum || c.MaxData() != adb.MaxPayload {
		t.Errorf("negotiated version %#x max %d, want %#x and %d", c.Version(), c.MaxData(), adb.VersionSkipChecksum, adb.MaxPayload)
	}
	out, err := c.Shell(ctx, "echo one; echo two >&2")
	if err != nil || !strings.Contains(string(out), "one\n") || !strings.Contains(string(out), "two\n") {
		t.Errorf("shell: want one and two, got %q (err %v)", out, err)
	}
	out, err = c.Exec(ctx, "printf '\\000\\001\\377'")
	if err != nil || !bytes.Equal(out, []byte{0, 1, 0xff}) {
		t.Errorf("exec: want raw bytes 00 01 ff, got % x (err %v)", out, err)
	}
	var so, se bytes.Buffer
	code, err := c.Run(ctx, "echo out; echo err >&2; exit 42", &so, &se)
	if err != nil || code != 42 || so.String() != "out\n" || se.String() != "err\n" {
		t.Errorf("run: want exit 42, out\\n, err\\n; got %d %q %q (err %v)", code, so.String(), se.String(), err)
	}
	if _, err := c.Open(ctx, "no-such-service:"); !errors.Is(err, adb.ErrRefused) {
		t.Errorf("open of an unknown service: want ErrRefused, got %v", err)
	}
}

func TestHostSyncPullPushLarge(t *testing.T) {
	c, _ := dialDevice(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	src, want := randomFile(t, dir, 20<<20+777)
	y, err := c.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := y.Stat(src)
	if err != nil || fi.Size != uint32(len(want)) || fi.Mode&0o170000 != 0o100000 {
		t.Errorf("stat: want a regular file of %d bytes, got %+v (err %v)", len(want), fi, err)
	}
	if _, err := y.Stat(filepath.Join(dir, "absent")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stat of a missing file: want fs.ErrNotExist, got %v", err)
	}
	var buf bytes.Buffer
	if _, err := y.Pull(filepath.Join(dir, "absent"), &buf); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("pull of a missing file: want the device's FAIL text, got %v", err)
	}
	pushed := filepath.Join(dir, "pushed.bin")
	if err := y.Push(bytes.NewReader(want), pushed, 0o640, time.Unix(1700000000, 0)); err != nil {
		t.Fatalf("push: %v", err)
	}
	y.Close()
	if got, err := os.ReadFile(pushed); err != nil || !bytes.Equal(got, want) {
		t.Errorf("push: device copy differs (err %v)", err)
	}
	dst := filepath.Join(dir, "pulled.bin")
	n, err := c.PullFile(ctx, src, dst)
	if err != nil || n != int64(len(want)) {
		t.Fatalf("pull: %d bytes, err %v", n, err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, want) {
		t.Errorf("pull: local copy differs from the device file")
	}
	// Large output through exec: many full-size WRTE messages.
	out, err := c.Exec(ctx, "cat "+src)
	if err != nil || !bytes.Equal(out, want) {
		t.Errorf("exec cat: %d bytes, equal %v, err %v", len(out), bytes.Equal(out, want), err)
	}
}

func TestHostManyStreamsAtOnce(t *testing.T) {
	c, _ := dialDevice(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	src, want := randomFile(t, dir, 2<<20)
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			out, err := c.Exec(ctx, fmt.Sprintf("echo stream-%d", i))
			if err != nil || string(out) != fmt.Sprintf("stream-%d\n", i) {
				errs <- fmt.Errorf("stream %d: got %q, err %v", i, out, err)
			}
		}()
		go func() {
			defer wg.Done()
			y, err := c.Sync(ctx)
			if err != nil {
				errs <- err
				return
			}
			defer y.Close()
			var b bytes.Buffer
			if _, err := y.Pull(src, &b); err != nil || !bytes.Equal(b.Bytes(), want) {
				errs <- fmt.Errorf("pull %d: %d bytes, err %v", i, b.Len(), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestHostDeviceDisconnectsMidStream: the device goes away while a pull
// and a command are running: both end with an error naming the lost
// connection, no partial file is left, and the connection reports it.
func TestHostDeviceDisconnectsMidStream(t *testing.T) {
	k := testKey(t)
	started := make(chan struct{}, 2)
	d := &adbtest.Device{Keys: []*rsa.PublicKey{&k.Private.PublicKey}}
	d.Services = map[string]func(*adb.Stream, string){
		// A sync: that promises a 64 KiB DATA, sends part of it, then
		// the cable is pulled.
		"sync:": func(s *adb.Stream, _ string) {
			request := func() {
				var hd [8]byte
				io.ReadFull(s, hd[:])
				io.ReadFull(s, make([]byte, binary.LittleEndian.Uint32(hd[4:])))
			}
			request() // STAT
			var st [16]byte
			copy(st[:], "STAT")
			binary.LittleEndian.PutUint32(st[4:], 0o100644)
			s.Write(st[:])
			request() // RECV
			msg := append([]byte("DATA\x00\x00\x01\x00"), make([]byte, 1000)...)
			s.Write(msg)
			started <- struct{}{}
			time.Sleep(time.Hour)
		},
		"hang:": func(s *adb.Stream, _ string) {
			s.Write([]byte("partial"))
			started <- struct{}{}
			time.Sleep(time.Hour)
		},
	}
	adbtest.Start(t, d)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := adb.DialTCP(ctx, d.Addr(), adb.HostOptions{Keys: []*adb.Key{k}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dst := filepath.Join(t.TempDir(), "ledger.db")
	pullErr := make(chan error, 1)
	go func() {
		_, err := c.PullFile(ctx, "/data/misc/permd/permd.db", dst)
		pullErr <- err
	}()
	hang, err := c.Open(ctx, "hang:")
	if err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 7)
	if _, err := io.ReadFull(hang, part); err != nil || string(part) != "partial" {
		t.Fatalf("first bytes: %q, %v", part, err)
	}
	<-started
	<-started
	d.DropAll()
	select {
	case err := <-pullErr:
		if err == nil || !strings.Contains(err.Error(), "connection lost") {
			t.Errorf("pull cut off: want an error naming the lost connection, got %v", err)
		}
	case <-ctx.Done():
		t.Fatal("pull did not return after the device went away")
	}
	b, err := io.ReadAll(hang)
	if len(b) != 0 || err == nil || !strings.Contains(err.Error(), "connection lost") {
		t.Errorf("read cut off: want a connection-lost error, got %q, %v", b, err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(dst)); len(ents) != 0 {
		t.Errorf("an interrupted pull left %d files behind (%s ...)", len(ents), ents[0].Name())
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatal("connection not marked as ended")
	}
	if _, err := c.Shell(ctx, "true"); err == nil {
		t.Error("shell on a lost connection: want an error")
	}
}

// rawPeer listens and hands each accepted socket to serve.
func rawPeer(t *testing.T, serve func(nc net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				serve(nc)
			}()
		}
	}()
	return ln.Addr().String()
}

func writeMsg(w io.Writer, m adb.Message, sum bool) {
	hdr := make([]byte, adb.HeaderSize)
	adb.EncodeHeader(hdr, m, sum)
	w.Write(append(hdr, m.Data...))
}

// TestHostGarbageAndSilentPeers: whatever a broken peer sends, the host
// side ends with an error naming the problem, within its deadline.
func TestHostGarbageAndSilentPeers(t *testing.T) {
	cnxn := func(version uint32) adb.Message {
		return adb.Message{Command: adb.CmdCNXN, Arg0: version, Arg1: adb.MaxPayload, Data: []byte("device::features=shell_v2\x00")}
	}
	cases := []struct {
		name  string
		serve func(nc net.Conn)
		want  string // in the error
		open  bool   // the handshake succeeds; the error comes on OPEN
	}{
		{"http answer", func(nc net.Conn) {
			adb.ReadMessage(nc, adb.MaxPayload, adb.CheckNonZero)
			nc.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
		}, "bad magic", false},
		{"unknown command", func(nc net.Conn) {
			adb.ReadMessage(nc, adb.MaxPayload, adb.CheckNonZero)
			hdr := make([]byte, adb.HeaderSize)
			adb.EncodeHeader(hdr, adb.Message{Command: 0x58585858}, false)
			nc.Write(hdr)
		}, "unknown command XXXX", false},
		{"oversized payload", func(nc net.Conn) {
			adb.ReadMessage(nc, adb.MaxPayload, adb.CheckNonZero)
			hdr := make([]byte, adb.HeaderSize)
			adb.EncodeHeader(hdr, cnxn(adb.Version), false)
			binary.LittleEndian.PutUint32(hdr[12:], 1<<30)
			nc.Write(hdr)
		}, "exceeds the limit", false},
		{"closes after CNXN", func(nc net.Conn) {
			// Read first: closing with unread data would be a reset.
			adb.ReadMessage(nc, adb.MaxPayload, adb.CheckNonZero)
		}, "closed the connection", false},
		{"truncated payload", func(nc net.Conn) {
			adb.ReadMessage(nc, adb.MaxPayload, adb.CheckNonZero)
			hdr := make([]byte, adb.HeaderSize)
			adb.EncodeHeader(hdr, cnxn(adb.Version), false)
			nc.Write(append(hdr, "dev"...))
		}, "unexpected EOF", false},
		{"silent", func(nc net.Conn) { time.Sleep(time.Hour) }, "deadline exceeded", false},
		{"garbage after the handshake", func(nc net.Conn) {
			adb.ReadMessage(nc, adb.MaxPayload, adb.CheckNonZero)
			writeMsg(nc, cnxn(adb.Version), false)
			adb.ReadMessage(nc, adb.MaxPayload, adb.CheckNever) // OPEN
			nc.Write(bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 6))
			time.Sleep(time.Hour)
		}, "bad magic", true},
		{"wrong checksum from a version 1.0.0 peer", func(nc net.Conn) {
			adb.ReadMessage(nc, adb.MaxPayload, adb.CheckNonZero)
			writeMsg(nc, cnxn(adb.VersionMin), true)
			open, _ := adb.ReadMessage(nc, adb.MaxPayload, adb.CheckAlways)
			writeMsg(nc, adb.Message{Command: adb.CmdOKAY, Arg0: 9, Arg1: open.Arg0}, true)
			hdr := make([]byte, adb.HeaderSize)
			adb.EncodeHeader(hdr, adb.Message{Command: adb.CmdWRTE, Arg0: 9, Arg1: open.Arg0, Data: []byte("hello")}, true)
			nc.Write(append(hdr, "jello"...))
			time.Sleep(time.Hour)
		}, "checksum", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := rawPeer(t, tc.serve)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			c, err := adb.DialTCP(ctx, addr, adb.HostOptions{Keys: []*adb.Key{testKey(t)}})
			if tc.open {
				if err != nil {
					t.Fatalf("handshake: %v", err)
				}
				defer c.Close()
				var s *adb.Stream
				s, err = c.Open(ctx, "shell:true")
				if err == nil {
					_, err = io.ReadAll(s)
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
			if tc.name != "silent" && tc.name != "closes after CNXN" && tc.name != "truncated payload" && !errors.Is(err, adb.ErrProtocol) {
				t.Errorf("want an error wrapping ErrProtocol, got %v", err)
			}
			if ctx.Err() != nil && tc.name != "silent" {
				t.Errorf("the error came only at the deadline: %v", err)
			}
		})
	}
}

// TestSlowReaderStopsTheDevice: flow control. While the host reads
// nothing, the device can get at most the stream window plus one message
// acknowledged; once the host reads, everything arrives intact.
func TestSlowReaderStopsTheDevice(t *testing.T) {
	k := testKey(t)
	const total = 24 << 20
	var mu sync.Mutex
	acked := 0
	done := make(chan struct{})
	d := &adbtest.Device{Keys: []*rsa.PublicKey{&k.Private.PublicKey}, Services: map[string]func(*adb.Stream, string){
		"flood:": func(s *adb.Stream, _ string) {
			defer close(done)
			chunk := bytes.Repeat([]byte{0x5a}, adb.MaxPayload)
			for sent := 0; sent < total; sent += len(chunk) {
				if _, err := s.Write(chunk); err != nil {
					return
				}
				mu.Lock()
				acked += len(chunk)
				mu.Unlock()
			}
		},
	}}
	adbtest.Start(t, d)
	ctx := testCtx(t)
	c, err := adb.DialTCP(ctx, d.Addr(), adb.HostOptions{Keys: []*adb.Key{k}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.Open(ctx, "flood:")
	if err != nil {
		t.Fatal(err)
	}
	// Wait until the device stops making progress. Under load a pause
	// can end this early, which only lowers the count; the bound holds.
	last := -1
	for {
		time.Sleep(200 * time.Millisecond)
		mu.Lock()
		now := acked
		mu.Unlock()
		if now == last && now > 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the device made no progress at all (%d bytes acknowledged)", now)
		}
		last = now
	}
	if limit := 4<<20 + adb.MaxPayload; last > limit || last == 0 {
		t.Errorf("with nobody reading, the device got %d bytes acknowledged; want between 1 and %d", last, limit)
	}
	n, err := io.Copy(io.Discard, io.LimitReader(s, total))
	if err != nil || n != total {
		t.Fatalf("read all: %d bytes, %v", n, err)
	}
	<-done
}
