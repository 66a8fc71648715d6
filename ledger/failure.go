package ledger

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"permd/ledger/store"
)

// failState remembers whether the last commit failed, since when and
// why, so that health can say the record is not being written now (the
// last error alone stays after the storage recovers).
type failState struct {
	mu    sync.Mutex
	err   string
	since time.Time
	full  bool // the last failure was SQLite's "database or disk is full"
	hook  atomic.Pointer[func()]
}

func (f *failState) note(err error, now time.Time) {
	if err == nil || errors.Is(err, ErrClosed) {
		f.mu.Lock()
		f.err, f.since, f.full = "", time.Time{}, false
		f.mu.Unlock()
		if h := f.hook.Load(); h != nil && err == nil {
			(*h)()
		}
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == "" {
		f.since = now
	}
	f.err, f.full = err.Error(), store.IsFull(err)
}

// WriteFailure says whether the record cannot be written now: the error
// of the last commit, when the failures began and whether the disk is
// full. An empty msg means the last commit succeeded. While
// commits fail, records handed over without waiting are counted and
// written as an overload row by the first commit that succeeds.
func (l *Ledger) WriteFailure() (msg string, since time.Time, full bool) {
	l.failing.mu.Lock()
	defer l.failing.mu.Unlock()
	return l.failing.err, l.failing.since, l.failing.full
}

// OnCommit sets f to run on the writer after every successful commit,
// for instance to persist Unrecorded as soon as an overload row took
// the count over. f must be quick and must not call into the writer.
func (l *Ledger) OnCommit(f func()) { l.failing.hook.Store(&f) }

// Unrecorded is how many records are counted but not yet written (they
// go into the next overload row), and why the last of them was lost.
func (l *Ledger) Unrecorded() (n int64, why string) {
	why, _ = l.dropWhy.Load().(string)
	return l.dropped.Load(), why
}

// Lost counts n records that could not be recorded (for instance counted
// by an earlier run that stopped while the disk was full); the next
// commit writes them in an overload row.
func (l *Ledger) Lost(n int64, why string) {
	if n > 0 {
		l.drop(int(n), why)
	}
}

// applicationID marks the file as permd's in the SQLite header ("perm").
const applicationID = 0x7065726d

// probeIfFailing tries one small real write while commits fail and
// nothing else is due, so that the failure clears (and health says ok)
// as soon as the storage takes writes again, not only at the next
// record. Setting the header's application id writes page 1 even when
// the value is unchanged, so it fails exactly when a commit would.
func (l *Ledger) probeIfFailing(ctx context.Context) {
	l.failing.mu.Lock()
	failing := l.failing.err != ""
	l.failing.mu.Unlock()
	if !failing {
		return
	}
	_, err := l.conn.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", applicationID))
	l.failing.note(err, l.opt.Now())
}
