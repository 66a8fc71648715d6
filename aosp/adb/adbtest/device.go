// Package adbtest is a device side of the ADB transport for tests: it
// listens on TCP like adbd in network mode, checks AUTH against given
// public keys, and serves shell:, shell,v2:, exec: and sync: from this
// host's sh and file system. Both the real adb and package adb's host
// side connect to it. It is test support: never linked into a shipped
// binary.
package adbtest

import (
	"bufio"
	"context"
	"crypto/rsa"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"permd/aosp/adb"
)

// Device is a listening test device.
type Device struct {
	// Keys are the authorised host keys; none means no AUTH.
	Keys []*rsa.PublicKey
	// Model goes into the banner as ro.product.model.
	Model string
	// Env is added to the environment of shell and exec commands, e.g. a
	// PATH with stand-ins for getprop and cmd.
	Env []string
	// Services are extra services by name prefix (up to and including the
	// colon), tried before the built-in ones.
	Services map[string]func(s *adb.Stream, arg string)

	ln    net.Listener
	mu    sync.Mutex
	conns map[*adb.Conn]bool
	raw   map[net.Conn]bool // every accepted socket, handshake or not
	wg    sync.WaitGroup
}

// Listen starts serving on 127.0.0.1 at a free port.
func (d *Device) Listen() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("adbtest listen: %w", err)
	}
	d.ln = ln
	d.conns = map[*adb.Conn]bool{}
	d.raw = map[net.Conn]bool{}
	d.wg.Add(1)
	go d.accept()
	return nil
}

// Start makes d listen, or fails the test, and closes it when the test
// ends.
func Start(t testing.TB, d *Device) *Device {
	t.Helper()
	if err := d.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// Addr is host:port, which adb also uses as the serial.
func (d *Device) Addr() string { return d.ln.Addr().String() }

// Close stops listening and drops every connection.
func (d *Device) Close() error {
	err := d.ln.Close()
	d.DropAll()
	d.wg.Wait()
	return err
}

// DropAll cuts every connection at once, as an unplugged cable would:
// the sockets, including those whose handshake is still under way.
func (d *Device) DropAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for c := range d.conns {
		c.Close()
	}
	for nc := range d.raw {
		nc.Close()
	}
}

// Connections is how many hosts are connected now.
func (d *Device) Connections() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.conns)
}

func (d *Device) banner() string {
	model := d.Model
	if model == "" {
		model = "permd_test_device"
	}
	return "device::ro.product.name=permd_test;ro.product.model=" + model + ";ro.product.device=permd_test;features=shell_v2,cmd"
}

func (d *Device) accept() {
	defer d.wg.Done()
	for {
		nc, err := d.ln.Accept()
		if err != nil {
			return
		}
		d.mu.Lock()
		d.raw[nc] = true
		d.mu.Unlock()
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			defer func() {
				d.mu.Lock()
				delete(d.raw, nc)
				d.mu.Unlock()
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := adb.Serve(ctx, adb.NewStreamCarrier(nc), adb.DeviceOptions{
				Banner:         d.banner(),
				AuthorizedKeys: d.Keys,
				Open:           d.open,
			})
			if err != nil {
				slog.Debug("adbtest handshake failed", "err", err)
				return
			}
			d.mu.Lock()
			d.conns[c] = true
			d.mu.Unlock()
			<-c.Done()
			d.mu.Lock()
			delete(d.conns, c)
			d.mu.Unlock()
		}()
	}
}

func (d *Device) open(service string) (func(*adb.Stream), error) {
	for prefix, h := range d.Services {
		if arg, ok := strings.CutPrefix(service, prefix); ok {
			return func(s *adb.Stream) { h(s, arg) }, nil
		}
	}
	name, cmd, _ := strings.Cut(service, ":")
	base, args, _ := strings.Cut(name, ",")
	switch {
	case name == "sync":
		return serveSync, nil
	case name == "root":
		return func(s *adb.Stream) { s.Write([]byte("adbd is already running as root\n")) }, nil
	case name == "exec" && cmd != "":
		return func(s *adb.Stream) { d.runRaw(s, cmd) }, nil
	case base == "shell" && cmd != "":
		for _, a := range strings.Split(args, ",") {
			if a == "v2" {
				return func(s *adb.Stream) { d.runV2(s, cmd) }, nil
			}
		}
		return func(s *adb.Stream) { d.runRaw(s, cmd) }, nil
	}
	return nil, fmt.Errorf("adbtest: no service %q", service)
}

// command runs a command line with this host's sh, standing in for the
// device's.
func (d *Device) command(cmdline string) *exec.Cmd {
	cmd := exec.Command("sh", "-c", cmdline)
	cmd.Env = append(os.Environ(), d.Env...)
	return cmd
}

// runRaw serves shell: and exec:: stdout and stderr go to the stream.
func (d *Device) runRaw(s *adb.Stream, cmdline string) {
	cmd := d.command(cmdline)
	// One writer for both: exec then calls its Write from one goroutine
	// at a time, so the stream's packets do not interleave.
	cmd.Stdout, cmd.Stderr = s, s
	cmd.Run()
}

// shellWriter frames output as shell protocol v2 packets of one id.
type shellWriter struct {
	mu *sync.Mutex
	w  io.Writer
	id byte
}

func (p shellWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := adb.WriteShellPacket(p.w, p.id, b); err != nil {
		return 0, err
	}
	return len(b), nil
}

// runV2 serves shell,v2: stdout and stderr apart, then the exit status.
func (d *Device) runV2(s *adb.Stream, cmdline string) {
	cmd := d.command(cmdline)
	var mu sync.Mutex
	cmd.Stdout = shellWriter{&mu, s, adb.ShellStdout}
	cmd.Stderr = shellWriter{&mu, s, adb.ShellStderr}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return
	}
	if err := cmd.Start(); err != nil {
		adb.WriteShellPacket(s, adb.ShellStderr, []byte(err.Error()+"\n"))
		adb.WriteShellPacket(s, adb.ShellExit, []byte{127})
		return
	}
	go func() {
		defer stdin.Close()
		for {
			id, data, err := adb.ReadShellPacket(s)
			if err != nil || id == adb.ShellCloseStdin {
				return
			}
			if id == adb.ShellStdin {
				stdin.Write(data)
			}
		}
	}()
	code := 0
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			code = 255
		} else {
			code = ee.ExitCode()
			if code < 0 {
				code = 255
			}
		}
	}
	mu.Lock()
	adb.WriteShellPacket(s, adb.ShellExit, []byte{byte(code)})
	mu.Unlock()
}

// serveSync answers sync: requests until QUIT or an error.
func serveSync(s *adb.Stream) {
	r := bufio.NewReaderSize(s, 128<<10)
	w := bufio.NewWriterSize(s, adb.MaxPayload)
	defer w.Flush()
	le := binary.LittleEndian
	var hd [8]byte
	reply := func(id string, n uint32, data []byte) {
		var b [8]byte
		copy(b[:], id)
		le.PutUint32(b[4:], n)
		w.Write(b[:])
		w.Write(data)
	}
	fail := func(msg string) {
		reply("FAIL", uint32(len(msg)), []byte(msg))
		w.Flush()
	}
	for {
		if err := w.Flush(); err != nil {
			return
		}
		if _, err := io.ReadFull(r, hd[:]); err != nil {
			return
		}
		id, n := string(hd[:4]), le.Uint32(hd[4:])
		if id == "QUIT" {
			return
		}
		if n > adb.SyncMaxPath {
			fail("path too long")
			return
		}
		arg := make([]byte, n)
		if _, err := io.ReadFull(r, arg); err != nil {
			return
		}
		path := string(arg)
		switch id {
		case "STAT":
			var b [16]byte
			copy(b[:], "STAT")
			if fi, err := os.Lstat(path); err == nil {
				le.PutUint32(b[4:], unixMode(fi))
				le.PutUint32(b[8:], uint32(fi.Size()))
				le.PutUint32(b[12:], uint32(fi.ModTime().Unix()))
			}
			w.Write(b[:])
		case "LIST":
			ents, _ := os.ReadDir(path)
			for _, e := range ents {
				fi, err := e.Info()
				if err != nil {
					continue
				}
				var b [20]byte
				copy(b[:], "DENT")
				le.PutUint32(b[4:], unixMode(fi))
				le.PutUint32(b[8:], uint32(fi.Size()))
				le.PutUint32(b[12:], uint32(fi.ModTime().Unix()))
				le.PutUint32(b[16:], uint32(len(e.Name())))
				w.Write(b[:])
				w.WriteString(e.Name())
			}
			var b [20]byte
			copy(b[:], "DONE")
			w.Write(b[:])
		case "RECV":
			if err := sendFile(path, reply); err != nil {
				fail(err.Error())
			}
		case "SEND":
			if err := recvFile(r, path); err != nil {
				fail(err.Error())
				return
			}
			reply("OKAY", 0, nil)
		default:
			fail("unknown sync request " + strconv.Quote(id))
			return
		}
	}
}

func unixMode(fi os.FileInfo) uint32 {
	m := uint32(fi.Mode().Perm())
	switch {
	case fi.Mode().IsDir():
		m |= 0o040000
	case fi.Mode()&os.ModeSymlink != 0:
		m |= 0o120000
	default:
		m |= 0o100000
	}
	return m
}

func sendFile(path string, reply func(string, uint32, []byte)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, adb.SyncMaxData)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			reply("DATA", uint32(n), buf[:n])
		}
		if err == io.EOF {
			reply("DONE", 0, nil)
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// recvFile takes a SEND: "path,mode", then DATA packets and a DONE.
func recvFile(r io.Reader, spec string) error {
	i := strings.LastIndexByte(spec, ',')
	if i < 0 {
		return fmt.Errorf("SEND %q: no mode", spec)
	}
	mode, err := strconv.ParseUint(spec[i+1:], 10, 32)
	if err != nil {
		return fmt.Errorf("SEND %q: bad mode", spec)
	}
	if err := os.MkdirAll(filepath.Dir(spec[:i]), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(spec[:i], os.O_WRONLY|os.O_CREATE|os.O_TRUNC, os.FileMode(mode&0o777))
	if err != nil {
		return err
	}
	defer f.Close()
	var hd [8]byte
	for {
		if _, err := io.ReadFull(r, hd[:]); err != nil {
			return err
		}
		n := binary.LittleEndian.Uint32(hd[4:])
		switch string(hd[:4]) {
		case "DATA":
			if n > adb.SyncMaxData {
				return fmt.Errorf("DATA of %d bytes", n)
			}
			if _, err := io.CopyN(f, r, int64(n)); err != nil {
				return err
			}
		case "DONE":
			mt := time.Unix(int64(n), 0)
			if err := f.Close(); err != nil {
				return err
			}
			return os.Chtimes(spec[:i], mt, mt)
		default:
			return fmt.Errorf("unexpected %q in SEND", hd[:4])
		}
	}
}
