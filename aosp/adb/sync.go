package adb

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// The sync: service (SYNC.TXT): requests and replies are a 4-byte id and
// a little-endian uint32, followed by that many bytes for some of them.
const (
	SyncMaxPath = 1024
	SyncMaxData = 64 * 1024
)

// FileInfo is what STAT reports.
type FileInfo struct {
	Mode  uint32 // st_mode; 0 when the path does not exist
	Size  uint32 // truncated to 32 bits by STAT v1
	Mtime time.Time
}

// Sync is an open sync: session; requests run one at a time.
type Sync struct {
	s  *Stream
	r  *bufio.Reader
	hd [8]byte
}

// Sync opens a sync: session; ctx bounds all of it.
func (c *Conn) Sync(ctx context.Context) (*Sync, error) {
	s, err := c.Open(ctx, "sync:")
	if err != nil {
		return nil, err
	}
	return &Sync{s: s, r: bufio.NewReaderSize(s, 1<<20)}, nil
}

// Close ends the session with QUIT.
func (y *Sync) Close() error {
	y.request("QUIT", "")
	return y.s.Close()
}

func (y *Sync) request(id, path string) error {
	if len(path) > SyncMaxPath {
		return fmt.Errorf("sync: path of %d bytes exceeds %d", len(path), SyncMaxPath)
	}
	b := make([]byte, 8+len(path))
	copy(b, id)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(path)))
	copy(b[8:], path)
	_, err := y.s.Write(b)
	return err
}

func (y *Sync) reply() (string, uint32, error) {
	if _, err := io.ReadFull(y.r, y.hd[:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return "", 0, fmt.Errorf("sync reply: %w", err)
	}
	return string(y.hd[:4]), binary.LittleEndian.Uint32(y.hd[4:]), nil
}

// failure reads a FAIL message's text.
func (y *Sync) failure(n uint32) error {
	if n > SyncMaxData {
		return fmt.Errorf("%w: sync FAIL message of %d bytes", ErrProtocol, n)
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(y.r, msg); err != nil {
		return fmt.Errorf("sync FAIL message: %w", err)
	}
	return fmt.Errorf("device: %s", msg)
}

// Stat reports a path's mode, size and mtime; a path that does not exist
// is an error wrapping fs.ErrNotExist.
func (y *Sync) Stat(path string) (FileInfo, error) {
	if err := y.request("STAT", path); err != nil {
		return FileInfo{}, err
	}
	var b [16]byte
	if _, err := io.ReadFull(y.r, b[:]); err != nil {
		return FileInfo{}, fmt.Errorf("sync STAT reply: %w", err)
	}
	if id := string(b[:4]); id != "STAT" {
		return FileInfo{}, fmt.Errorf("%w: sync STAT answered with %q", ErrProtocol, id)
	}
	le := binary.LittleEndian
	fi := FileInfo{Mode: le.Uint32(b[4:]), Size: le.Uint32(b[8:]), Mtime: time.Unix(int64(le.Uint32(b[12:])), 0)}
	if fi.Mode == 0 {
		return fi, fmt.Errorf("stat %s on the device: %w", path, fs.ErrNotExist)
	}
	return fi, nil
}

// Pull copies a device file to w and returns the bytes copied.
func (y *Sync) Pull(path string, w io.Writer) (int64, error) {
	if err := y.request("RECV", path); err != nil {
		return 0, err
	}
	var total int64
	buf := make([]byte, SyncMaxData)
	for {
		id, n, err := y.reply()
		if err != nil {
			return total, fmt.Errorf("pull %s: %w", path, err)
		}
		switch id {
		case "DATA":
			if n > SyncMaxData {
				return total, fmt.Errorf("pull %s: %w: DATA of %d bytes exceeds %d", path, ErrProtocol, n, SyncMaxData)
			}
			if _, err := io.ReadFull(y.r, buf[:n]); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return total, fmt.Errorf("pull %s: cut off after %d bytes: %w", path, total, err)
			}
			if _, err := w.Write(buf[:n]); err != nil {
				return total, fmt.Errorf("pull %s: %w", path, err)
			}
			total += int64(n)
		case "DONE":
			return total, nil
		case "FAIL":
			return total, fmt.Errorf("pull %s: %w", path, y.failure(n))
		default:
			return total, fmt.Errorf("pull %s: %w: unexpected sync reply %q", path, ErrProtocol, id)
		}
	}
}

// Push copies r to a device file with the given mode and mtime.
func (y *Sync) Push(r io.Reader, path string, mode fs.FileMode, mtime time.Time) error {
	if err := y.request("SEND", fmt.Sprintf("%s,%d", path, uint32(mode.Perm())|0o100000)); err != nil {
		return err
	}
	buf := make([]byte, 8+SyncMaxData)
	for {
		n, err := io.ReadFull(r, buf[8:])
		if n > 0 {
			copy(buf, "DATA")
			binary.LittleEndian.PutUint32(buf[4:], uint32(n))
			if _, werr := y.s.Write(buf[:8+n]); werr != nil {
				return fmt.Errorf("push %s: %w", path, werr)
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("push %s: %w", path, err)
		}
	}
	copy(buf, "DONE")
	binary.LittleEndian.PutUint32(buf[4:], uint32(mtime.Unix()))
	if _, err := y.s.Write(buf[:8]); err != nil {
		return fmt.Errorf("push %s: %w", path, err)
	}
	id, n, err := y.reply()
	if err != nil {
		return fmt.Errorf("push %s: %w", path, err)
	}
	switch id {
	case "OKAY":
		return nil
	case "FAIL":
		return fmt.Errorf("push %s: %w", path, y.failure(n))
	}
	return fmt.Errorf("push %s: %w: unexpected sync reply %q", path, ErrProtocol, id)
}

// PullFile pulls a device file to a local path. It writes a temporary file
// next to local and renames it at the end, so an interrupted pull never
// leaves a truncated copy under the final name.
func (c *Conn) PullFile(ctx context.Context, remote, local string) (int64, error) {
	return c.pullFile(ctx, remote, local, io.Discard)
}

// PullFileSum is PullFile that also returns the SHA-256 of what it copied,
// computed as the data passes (no second read of the copy).
func (c *Conn) PullFileSum(ctx context.Context, remote, local string) (int64, [sha256.Size]byte, error) {
	h := sha256.New()
	n, err := c.pullFile(ctx, remote, local, h)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return n, sum, err
}

// Sum reads a device file through and returns its SHA-256, keeping
// nothing.
func (c *Conn) Sum(ctx context.Context, remote string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	y, err := c.Sync(ctx)
	if err != nil {
		return sum, err
	}
	defer y.Close()
	h := sha256.New()
	if _, err := y.Pull(remote, h); err != nil {
		return sum, err
	}
	h.Sum(sum[:0])
	return sum, nil
}

func (c *Conn) pullFile(ctx context.Context, remote, local string, also io.Writer) (int64, error) {
	y, err := c.Sync(ctx)
	if err != nil {
		return 0, err
	}
	defer y.Close()
	if _, err := y.Stat(remote); err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(filepath.Dir(local), "."+filepath.Base(local)+".pull-*")
	if err != nil {
		return 0, fmt.Errorf("pull %s: %w", remote, err)
	}
	defer os.Remove(f.Name())
	// DATA chunks are 64 KiB: written as they come, without another copy.
	n, err := y.Pull(remote, io.MultiWriter(f, also))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	if err := os.Rename(f.Name(), local); err != nil {
		return n, fmt.Errorf("pull %s: %w", remote, err)
	}
	return n, nil
}
