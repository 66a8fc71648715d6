package framework

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"permd/ledger/store"
)

// storageState is what the daemon knows about its database file beyond
// "does it answer": the last structural check and the space left.
type storageState struct {
	path      string
	integrity atomic.Pointer[[]string] // quick_check findings, nil when sound
	freeBytes atomic.Int64             // -1 when unknown
	checking  atomic.Bool              // the start-up check is running
	// unrecorded is owned by the ledger part's start and stop and the
	// storage monitor, which run one after the other.
	unrecorded unrecordedState
}

// checkIntegrityAsync runs the quick structural check once the daemon
// serves, and remembers its findings for health. It reads the whole
// file (1.4 s for a million-row, 123 MiB record on a 2-core host; see
// docs/performance.md), so it runs beside the service rather than
// delaying the first answer. A damaged file is served as far as it can
// be: the daemon logs what is wrong and how to recover instead of
// refusing to start, since refusing would also stop decisions and
// indicators. stop cancels a check still running.
func (s *Service) checkIntegrityAsync(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	s.storage.checking.Store(true)
	go func() {
		defer close(done)
		defer s.storage.checking.Store(false)
		findings, err := store.QuickCheck(ctx, s.db)
		if ctx.Err() != nil {
			return // stopped: no finding either way
		}
		if err != nil {
			findings = append(findings, err.Error())
		}
		s.noteIntegrity(findings)
	}()
	return func() { cancel(); <-done }
}

func (s *Service) noteIntegrity(findings []string) {
	if len(findings) == 0 {
		s.storage.integrity.Store(nil)
		return
	}
	s.storage.integrity.Store(&findings)
	s.log.Error("database is damaged; serving what can be read", "db", s.storage.path, "problem", strings.Join(findings, "; "), "recover", store.Recovery)
}

// storageHealth is the storage part of sys.health: degraded, with the
// reason, when the file is damaged or the record cannot be written now.
func (s *Service) storageHealth(ctx context.Context) StorageHealth {
	h := StorageHealth{OK: true, Driver: store.Driver, Path: s.storage.path, FreeBytes: s.storage.freeBytes.Load(),
		IntegrityChecking: s.storage.checking.Load()}
	var why []string
	// Without the caller's cancellation: with it, modernc (the device
	// build) starts a goroutine per statement to watch the context, which
	// cost sys.health a hand-off per call; an idle pool's ping does not
	// need interrupting.
	if err := s.db.PingContext(context.WithoutCancel(ctx)); err != nil {
		why = append(why, err.Error())
	}
	if f := s.storage.integrity.Load(); f != nil {
		h.Integrity = *f
		why = append(why, "database damaged: "+(*f)[0]+"; "+store.Recovery)
	}
	if l := s.ledger.l; l != nil {
		h.Unrecorded, _ = l.Unrecorded()
		if msg, since, full := l.WriteFailure(); msg != "" {
			h.WriteFailingSinceMS = since.UnixMilli()
			w := "the record cannot be written: " + msg
			if full {
				w += fmt.Sprintf(" (%d bytes free in %s); decisions and indicators go on, and what is not recorded is counted and recorded as an overload row when space returns", h.FreeBytes, filepath.Dir(s.storage.path))
			}
			why = append(why, w)
		}
	}
	if len(why) > 0 {
		h.OK, h.Error = false, strings.Join(why, "; ")
	}
	return h
}

// storageRPCError maps an error of the storage itself (disk full, I/O,
// damaged file) to CodeUnavailable, the documented "storage is failing"
// code, with what failed; nil when err is something else.
func storageRPCError(err error) *Error {
	if !store.IsStorageFailure(err) {
		return nil
	}
	return Errorf(CodeUnavailable, "storage is failing: %v", err)
}

// Storage upkeep. walCheckpointBytes is the WAL size past which the
// monitor checkpoints and truncates it: SQLite's own automatic
// checkpoint (at thousands of pages, for write speed) would otherwise
// leave a small database entirely in its WAL, where a full disk can
// keep it from ever being checkpointed.
const (
	storageTick        = 2 * time.Second
	walCheckpointBytes = 1 << 20
)

// watchStorage keeps the free-space figure current and checkpoints the
// WAL; it returns a function that stops it.
func (s *Service) watchStorage(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	// The free space is known for the first health answer; the rest of
	// the first step runs beside the service: after a crash it
	// checkpoints the WAL the restart's seal left (megabytes, and an
	// fsync), which delayed the first answer by 60 ms on a 1 M-row
	// ledger (docs/performance.md) and guards nothing a request needs.
	s.noteFreeSpace()
	go func() {
		defer close(done)
		s.storageStep(ctx)
		t := time.NewTicker(storageTick)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.storageStep(ctx)
			}
		}
	}()
	return func() { cancel(); <-done }
}

func (s *Service) storageStep(ctx context.Context) {
	if l := s.ledger.l; l != nil {
		s.saveUnrecorded(l.Unrecorded())
	}
	s.noteFreeSpace()
	wal, err := os.Stat(s.storage.path + "-wal")
	if err != nil {
		return
	}
	db, _ := os.Stat(s.storage.path)
	failing := false
	if l := s.ledger.l; l != nil {
		msg, _, _ := l.WriteFailure()
		failing = msg != ""
	}
	// Checkpoint when the WAL is big, when it holds more than the
	// database file (a small database living in its WAL), and while
	// writes fail: moving the WAL into the database and truncating it
	// gives space back.
	if wal.Size() >= walCheckpointBytes || (db != nil && wal.Size() > db.Size() && wal.Size() > 0) || (failing && wal.Size() > 0) {
		if err := s.checkpoint(ctx); err != nil && ctx.Err() == nil {
			s.log.Debug("wal checkpoint not done; retried at the next tick", "err", err)
		}
	}
}

// noteFreeSpace records the space left in the data dir's file system.
func (s *Service) noteFreeSpace() {
	var st unix.Statfs_t
	if err := unix.Statfs(filepath.Dir(s.storage.path), &st); err == nil {
		s.storage.freeBytes.Store(int64(st.Bavail) * int64(st.Bsize))
	} else {
		s.storage.freeBytes.Store(-1)
	}
}

// checkpointBusyMS bounds how long a checkpoint waits for readers. A
// truncating checkpoint holds new writers back while it waits, so it
// gives up early and tries again at the next tick rather than stall
// the ledger writer for the connection's full busy timeout.
const checkpointBusyMS = 100

func (s *Service) checkpoint(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", checkpointBusyMS)); err != nil {
		return err
	}
	_, err = conn.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	// Back to the DSN's timeout before the connection returns to the pool.
	if _, rerr := conn.ExecContext(context.Background(), fmt.Sprintf("PRAGMA busy_timeout = %d", store.BusyTimeoutMS)); rerr != nil {
		conn.Raw(func(any) error { return driver.ErrBadConn }) // drop it from the pool
	}
	return err
}

// nameDatabase makes a start error that comes from the database name the
// file and the way to recover, as the store's own refusals do.
func (s *Service) nameDatabase(err error) error {
	if err == nil || strings.Contains(err.Error(), s.storage.path) {
		return err
	}
	if store.IsStorageFailure(err) || errors.Is(err, store.ErrNewerSchema) {
		return fmt.Errorf("database %s: %w; to recover: %s", s.storage.path, err, store.Recovery)
	}
	return err
}

// UnrecordedFile keeps, across restarts, the count of records that could
// not be written. It is allocated once at full size while there is
// space and then only overwritten in place, which needs no new blocks:
// so a daemon stopping on a full disk still keeps the count, and the
// next run writes it in an overload row once space returns, instead of
// losing it silently.
const UnrecordedFile = "permd.unrecorded"

const unrecordedSize = 4096

type unrecordedState struct {
	mu   sync.Mutex // the writer (after a commit) and the monitor both save
	f    *os.File
	last string
}

// openUnrecorded opens (allocating when new) the counter file and
// returns the count an earlier run left in it.
func (s *Service) openUnrecorded() (n int64, why string) {
	path := filepath.Join(filepath.Dir(s.storage.path), UnrecordedFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		s.log.Warn("cannot keep the count of unrecorded events across restarts", "file", path, "err", err)
		return 0, ""
	}
	buf := make([]byte, unrecordedSize)
	m, _ := f.ReadAt(buf, 0)
	if fi, err := f.Stat(); err == nil && fi.Size() < unrecordedSize {
		if err := unix.Fallocate(int(f.Fd()), 0, 0, unrecordedSize); err != nil {
			if _, err := f.WriteAt(make([]byte, unrecordedSize-fi.Size()), fi.Size()); err != nil {
				s.log.Warn("cannot allocate the unrecorded-events counter", "file", path, "err", err)
			}
		}
	}
	s.storage.unrecorded.f = f
	var c struct {
		Dropped int64  `json:"dropped"`
		Reason  string `json:"reason"`
	}
	if txt := strings.TrimRight(string(buf[:m]), "\x00 \n"); txt != "" {
		if err := json.Unmarshal([]byte(txt), &c); err != nil {
			s.log.Error("unrecorded-events counter unreadable", "file", path, "err", err)
		}
	}
	return c.Dropped, c.Reason
}

// saveUnrecorded overwrites the counter file with n and why when they
// changed.
func (s *Service) saveUnrecorded(n int64, why string) {
	u := &s.storage.unrecorded
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.f == nil {
		return
	}
	if n == 0 {
		why = ""
	}
	b, _ := json.Marshal(map[string]any{"dropped": n, "reason": why})
	if len(b) >= unrecordedSize {
		b, _ = json.Marshal(map[string]any{"dropped": n, "reason": why[:unrecordedSize/2]})
	}
	if string(b) == u.last {
		return
	}
	buf := make([]byte, unrecordedSize)
	copy(buf, b)
	if _, err := u.f.WriteAt(buf, 0); err != nil {
		return // tried again at the next tick
	}
	if err := u.f.Sync(); err != nil {
		return
	}
	u.last = string(b)
}

func (s *Service) closeUnrecorded() {
	u := &s.storage.unrecorded
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.f != nil {
		u.f.Close()
		u.f = nil
	}
}
