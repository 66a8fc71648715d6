package framework

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// LockFile is the lock file inside the data dir. The daemon holds an
// exclusive flock on it for its whole life, taken before the database is
// opened or any part starts: a second permd on the same data dir (a
// second `make run`, a manual start next to init's) is refused before it
// can seal the live daemon's open rows or write anything else.
const LockFile = "permd.lock"

// ErrDataDirInUse means another live permd holds the data dir.
var ErrDataDirInUse = errors.New("data dir in use by another permd")

// dataDirLock is the held lock; release ends it.
type dataDirLock struct{ f *os.File }

// lockDataDir creates dir if needed and takes its lock without waiting.
// The kernel drops a flock when its holder dies, so a crashed daemon
// never leaves a stale lock behind.
func lockDataDir(dir string) (*dataDirLock, error) {
	if err := os.MkdirAll(dir, 0o770); err != nil {
		return nil, fmt.Errorf("data dir %s: %w", dir, err)
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data dir lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		holder := "another process"
		if b, rerr := os.ReadFile(path); rerr == nil && len(strings.TrimSpace(string(b))) > 0 {
			holder = "pid " + strings.TrimSpace(string(b))
		}
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("data dir %s is locked by %s (%s): stop that permd first, or give this one another --data-dir: %w", dir, holder, path, ErrDataDirInUse)
		}
		return nil, fmt.Errorf("data dir lock %s: %w", path, err)
	}
	// The pid is only for the message above; the lock is the flock.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dataDirLock{f: f}, nil
}

func (l *dataDirLock) release() {
	if l != nil && l.f != nil {
		l.f.Close() // closing the last descriptor drops the flock
		l.f = nil
	}
}
