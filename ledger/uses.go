package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// ReasonDaemonRestart is the reason written into the records of a use
// that was still in progress when the daemon stopped without ending it
// (a crash, kill -9, power loss).
const ReasonDaemonRestart = "daemon_restart"

// useBeat is how often the writer notes, in ledger_use, that the uses in
// progress are still in progress: the lower bound on how long a use
// lasted after a crash is at most this much short.
const useBeat = 10 * time.Second

// OpenUse is a use in progress (a camera open, say) as the ledger keeps
// it until its own records are written: Recs are the records to write
// if the daemon stops before the use ends, dated at their start. Their
// detail's duration_ms and reason are filled in then.
type OpenUse struct {
	ID    uint64
	Start time.Time
	Recs  []Record
}

// EnqueueUses is Enqueue (recs, without waiting) together with uses
// that began (open) and ended (closed) since the last call, committed in
// the same transaction as recs: a use's end and its records are written
// together, so that after a crash every use is either recorded as ended
// or still open, never lost. On the next start, Open writes the records
// of every use still open, with reason daemon_restart, duration_ms the
// time it was last known in progress (at most useBeat before the stop)
// and max_duration_ms the time to the restart (where the rules list it).
func (l *Ledger) EnqueueUses(open []OpenUse, closed []uint64, recs ...Record) {
	if len(open) == 0 && len(closed) == 0 {
		l.Enqueue(recs...)
		return
	}
	l.enqueue(open, closed, recs)
}

// applyUses writes the uses that began and ended into ledger_use in the
// commit's transaction, and notes the uses in progress as still in
// progress every useBeat. The writer keeps the ids of the uses in
// ledger_use, so that it knows their number without counting the table
// in every commit (op.start waits for this commit).
func (l *Ledger) applyUses(ctx context.Context, ts *txStmts, open []OpenUse, closed []uint64) error {
	w := &l.w
	now := l.opt.Now().UnixMilli()
	for _, u := range open {
		b, err := appendUseRecs(w.useBuf[:0], u.Recs)
		if err != nil {
			return fmt.Errorf("open use: %w", err)
		}
		w.useBuf = b
		if err := ts.exec(ctx, stUseOpen, int64(u.ID), u.Start.UnixMilli(), now, string(b)); err != nil {
			return fmt.Errorf("open use: %w", err)
		}
		w.useIDs[u.ID] = struct{}{}
	}
	for _, id := range closed {
		if err := ts.exec(ctx, stUseClose, int64(id)); err != nil {
			return fmt.Errorf("close use: %w", err)
		}
		delete(w.useIDs, id)
	}
	if len(w.useIDs) > 0 && now-w.usesSeen >= useBeat.Milliseconds() {
		if err := ts.exec(ctx, stUseSeen, now); err != nil {
			return fmt.Errorf("uses: %w", err)
		}
		w.usesSeen = now
	}
	return nil
}

// usesDue says the uses in progress are due to be noted as such.
func (l *Ledger) usesDue() bool {
	return len(l.w.useIDs) > 0 && l.opt.Now().UnixMilli()-l.w.usesSeen >= useBeat.Milliseconds()
}

// restartUses returns the records of the uses a stopped daemon left in
// progress, with their duration bounds, ready to commit.
func (l *Ledger) restartUses(ctx context.Context) ([]Record, error) {
	rows, err := l.conn.QueryContext(ctx, `SELECT start_ms, seen_ms, recs FROM ledger_use ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("uses left open: %w", err)
	}
	defer rows.Close()
	now := l.opt.Now()
	rules := l.Rules()
	var out []Record
	seen := map[string]bool{}
	for rows.Next() {
		var start, last int64
		var body string
		if err := rows.Scan(&start, &last, &body); err != nil {
			return nil, fmt.Errorf("uses left open: %w", err)
		}
		var recs []Record
		if err := json.Unmarshal([]byte(body), &recs); err != nil {
			l.opt.Logger.Error("ledger: unreadable use left open; counted as dropped", "err", err)
			l.drop(1, "unreadable use left open by a crash")
			continue
		}
		for _, r := range recs {
			m := map[string]any{}
			if len(r.Detail) > 0 {
				json.Unmarshal(r.Detail, &m)
			}
			from := r.Time.UnixMilli()
			m["duration_ms"] = max(0, last-from)
			m["reason"] = ReasonDaemonRestart
			if k := rules.Kind(r.Kind); k != nil && contains(k.Detail, "max_duration_ms") {
				m["max_duration_ms"] = max(0, now.UnixMilli()-from)
			}
			r.Detail, _ = json.Marshal(m)
			// Uses that shared one shown span carry the same record of it.
			key := string(r.Detail) + "\x00" + r.Kind + "\x00" + r.Category + "\x00" + r.Time.String()
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, r)
		}
	}
	return out, rows.Err()
}

// closeRestartUses writes the records of uses left in progress and
// empties ledger_use, in one transaction.
func (l *Ledger) closeRestartUses(ctx context.Context) error {
	if len(l.w.useIDs) == 0 && !l.w.tipStale && l.w.open == 0 {
		// A clean stop left nothing to record or seal: no write (and no
		// fsync) on the way to serving.
		return nil
	}
	recs, err := l.restartUses(ctx)
	if err != nil {
		return err
	}
	var ok []Record
	for _, r := range recs {
		norm, err := l.Validate([]Record{r})
		if err != nil {
			l.opt.Logger.Error("ledger: a use left open cannot be recorded under the rules in force; counted as dropped", "kind", r.Kind, "err", err)
			l.drop(1, "use left open by a crash: "+err.Error())
			continue
		}
		ok = append(ok, norm...)
	}
	if len(ok) > 0 {
		l.opt.Logger.Warn("ledger: uses in progress when the daemon stopped are recorded as ended by the restart", "records", len(ok))
	}
	return l.commit(ctx, ok, l.prepare(ok, map[int]appKey{}), true, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM ledger_use`)
		clear(l.w.useIDs)
		return err
	})
}
