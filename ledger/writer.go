package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// The writer goroutine: it takes what producers queued, group-commits
// it, answers the waiters, and moves sealed rows out of ledger_recent.

// run is the writer goroutine.
func (l *Ledger) run() {
	defer close(l.done)
	defer l.closeWriter()
	ctx := context.Background()
	sealTick := time.NewTicker(time.Second)
	defer sealTick.Stop()
	retention := time.NewTimer(time.Minute) // first run soon after boot
	defer retention.Stop()
	var pruning []chan error
	pruneMore := false
	for {
		var batch []*request
		n, ticked := 0, false
		take := func(r *request) { batch = append(batch, r); n += len(r.recs) }
		if pruneMore {
			select {
			case r := <-l.queue:
				take(r)
			case ch := <-l.pruneNow:
				pruning = append(pruning, ch)
			case <-l.stop:
				l.shutdown(ctx)
				for _, ch := range pruning {
					ch <- ErrClosed
				}
				return
			default:
			}
		} else {
			select {
			case r := <-l.queue:
				take(r)
			case <-sealTick.C:
				ticked = true
			case <-retention.C:
				pruneMore = true
				retention.Reset(time.Duration(l.Rules().RetentionEvery))
			case ch := <-l.pruneNow:
				pruning = append(pruning, ch)
				pruneMore = true
			case <-l.stop:
				l.shutdown(ctx)
				return
			}
		}
		full := func() bool { return n >= l.opt.MaxBatch }
		l.drain(take, full)
		// Group commit: everything queued while the last commit ran
		// goes into this one. A reporter that waits for its answer is
		// never held back for more: reporters blocked on the last commit
		// cannot add to this one. Records handed over without waiting
		// (Enqueue, the permission-check hot path) are gathered for up
		// to commit_delay, so that a stream of checks costs tens of
		// commits a second rather than one per check.
		if len(batch) > 0 && !slices.ContainsFunc(batch, waits) && n < l.opt.MaxBatch {
			l.gather(take, full)
		}
		if len(batch) > 0 || l.dropped.Load() > 0 || l.sealDue() || l.usesDue() {
			l.commitBatch(ctx, batch, false)
		} else if ticked {
			l.probeIfFailing(ctx)
		}
		if l.w.staged >= mergeRows && !l.w.mergeFailed || l.w.staged > 0 && (ticked || pruneMore) {
			l.mergeStaged(ctx)
		}
		if pruneMore && len(batch) == 0 {
			more, err := l.pruneStep(ctx)
			if err != nil || !more {
				pruneMore = false
				for _, ch := range pruning {
					ch <- err
				}
				pruning = nil
				if err != nil {
					l.opt.Logger.Error("ledger retention failed", "err", err)
				}
			}
		}
	}
}

func waits(r *request) bool { return r.done != nil }

// gather adds queued requests to the batch until one has a waiter, the
// batch is full, or commit_delay has passed. It does not take each
// request as it arrives: a receive from the queue wakes this goroutine,
// and on 2 cores a wake per perm.check's record cost the checks more
// than the record's validation. The queue is read when a waiter pokes
// (send), when it holds enough to fill a batch or half its capacity
// (enqueue), and when commit_delay is up. Requests stay in the one
// queue, so they reach the commit in the order they were handed over.
func (l *Ledger) gather(take func(*request), full func() bool) {
	t := time.NewTimer(time.Duration(l.Rules().CommitDelay))
	defer t.Stop()
	for !full() {
		select {
		case <-l.wake:
			if l.drain(take, full) {
				return
			}
		case <-t.C:
			l.drain(take, full)
			return
		}
	}
}

// drain takes what is queued until the queue is empty or the batch is
// full, and reports whether it took a request with a waiter.
func (l *Ledger) drain(take func(*request), full func() bool) (waiter bool) {
	for !full() {
		select {
		case r := <-l.queue:
			take(r)
			waiter = waiter || waits(r)
		default:
			return waiter
		}
	}
	return waiter
}

// poke tells a gathering writer to read the queue now.
func (l *Ledger) poke() {
	select {
	case l.wake <- struct{}{}:
	default: // already poked
	}
}

// pokeAt is the queue length at which enqueue pokes the writer: before
// the queue can overflow, and when a batch's worth is waiting.
func (l *Ledger) pokeAt() int {
	return min(l.opt.MaxBatch, cap(l.queue)/2)
}

// mergeRows is how many sealed rows ledger_recent collects before the
// writer moves them into ledger_event (see fromRows for why).
const mergeRows = 32768

// mergeStaged moves the sealed rows of ledger_recent into ledger_event
// in one transaction. A failure leaves them where they are, still read
// and verified there, and is retried at the next tick.
func (l *Ledger) mergeStaged(ctx context.Context) {
	if err := l.merge(ctx); err != nil {
		l.lastErr.Store(err.Error())
		l.opt.Logger.Error("ledger merge failed", "err", err)
		l.w.mergeFailed = true
		return
	}
	l.w.staged, l.w.mergeFailed = 0, false
}

func (l *Ledger) merge(ctx context.Context) error {
	tx, err := l.conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ts := &txStmts{tx: tx, all: &l.st}
	if err := ts.exec(ctx, stMergeMove); err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	// With no open row left in ledger_recent (every row moved), the
	// table is emptied whole, which SQLite does by freeing its pages
	// rather than deleting row by row: about a tenth of the cost. The
	// check reads the table; it does not trust the writer's memory,
	// which does not hold an open row it could not resolve at start.
	var open bool
	if err := ts.get(ctx, stMergeOpen).QueryRowContext(ctx).Scan(&open); err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	del := stMergeEmpty
	if open {
		del = stMergeSealed
	}
	if err := ts.exec(ctx, del); err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	return tx.Commit()
}

func (l *Ledger) shutdown(ctx context.Context) {
	var batch []*request
	for {
		select {
		case r := <-l.queue:
			batch = append(batch, r)
			continue
		default:
		}
		break
	}
	l.commitBatch(ctx, batch, true)
	l.mergeStaged(ctx)
}

// commitBatch commits the records of batch and answers the waiters.
// Requests that write other tables too (AppendTx) are committed after
// the rest, each in its own transaction, so that one failing cannot undo
// the others.
func (l *Ledger) commitBatch(ctx context.Context, batch []*request, force bool) {
	var with []*request
	if slices.ContainsFunc(batch, func(r *request) bool { return r.with != nil }) {
		plain := make([]*request, 0, len(batch))
		for _, r := range batch {
			if r.with != nil {
				with = append(with, r)
			} else {
				plain = append(plain, r)
			}
		}
		batch = plain
	}
	l.commitGroup(ctx, batch, force)
	for _, r := range with {
		err := l.commit(ctx, r.recs, r.pre, force, r.with)
		var he *withError
		switch {
		case errors.As(err, &he):
			err = he.err // nothing was changed: no reload needed
		case err != nil:
			l.lastErr.Store(err.Error())
			l.opt.Logger.Error("ledger commit failed", "err", err, "records", len(r.recs))
			l.reload(ctx)
		}
		r.done <- err
	}
}

// withError is an error from an AppendTx function.
type withError struct{ err error }

func (e *withError) Error() string { return e.err.Error() }

// commitGroup commits the records of batch in one transaction and
// answers the waiters.
func (l *Ledger) commitGroup(ctx context.Context, batch []*request, force bool) {
	var recs []Record
	var pre []prep
	seen := map[int]appKey{} // uids resolved for this commit's hot-path records
	for _, r := range batch {
		l.w.openUses = append(l.w.openUses, r.open...)
		l.w.closedUses = append(l.w.closedUses, r.closed...)
		if r.unchecked {
			norm, err := l.Validate(r.recs)
			if err != nil {
				l.drop(len(r.recs), "invalid record: "+err.Error())
				continue
			}
			r.recs, r.pre = norm, l.prepare(norm, seen)
		}
		recs = append(recs, r.recs...)
		pre = append(pre, r.pre...)
	}
	d := l.dropped.Swap(0)
	if d > 0 {
		why, _ := l.dropWhy.Load().(string)
		detail, _ := json.Marshal(map[string]any{"dropped": d, "reason": why})
		over := []Record{{Time: l.opt.Now(), UID: l.opt.SelfUID, Kind: "overload", Category: "system", Detail: detail}}
		recs = append(recs, over...)
		pre = append(pre, l.prepare(over, seen)...)
	}
	var err error
	if l.restartUsesPending {
		// ledger_use still holds the uses of the run before a start on a
		// full disk: record them before this run's uses touch the table
		// (its heartbeat would otherwise stretch their bounds).
		if err = l.closeRestartUses(ctx); err == nil {
			l.restartUsesPending = false
		}
	}
	if err == nil {
		err = l.commit(ctx, recs, pre, force, nil)
	}
	l.failing.note(err, l.opt.Now())
	if err != nil {
		l.lastErr.Store(err.Error())
		l.opt.Logger.Error("ledger commit failed", "err", err, "records", len(recs))
		// The in-memory state may be ahead of the database: reload it,
		// keeping the uses still to be written into ledger_use.
		l.reload(ctx)
		// Nobody waits for enqueued records: count them as dropped so
		// that the next overload row says so, never lose them silently.
		l.dropped.Add(d) // the overload row did not make it either
		lost := 0
		for _, r := range batch {
			if r.done == nil {
				lost += len(r.recs)
			}
		}
		if lost > 0 {
			l.drop(lost, "commit failed: "+err.Error())
		}
	}
	for _, r := range batch {
		if r.done != nil {
			r.done <- err
		}
	}
}

// reload reads the writer state again after a failed transaction (the
// memory may be ahead of the database), keeping the uses still to be
// written into ledger_use: they are not in the database to be read.
func (l *Ledger) reload(ctx context.Context) {
	open, closed := l.w.openUses, l.w.closedUses
	if err := l.load(ctx); err != nil {
		l.opt.Logger.Error("ledger reload failed", "err", err)
	}
	l.w.openUses, l.w.closedUses = open, closed
}

func (l *Ledger) sealDue() bool {
	now := l.opt.Now().UnixMilli()
	win := l.Rules().Window().Milliseconds()
	for _, c := range l.w.chains {
		if len(c.open) > 0 && (!c.open[0].coalesce || now >= c.open[0].First+win) {
			return true
		}
	}
	return false
}
