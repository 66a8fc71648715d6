package ledger

import (
	"context"
	"fmt"
)

// pruneChunk bounds the rows deleted in one transaction so that
// retention never holds the writer (and thus reporters) for long.
const pruneChunk = 2000

// pruneStep deletes up to pruneChunk expired rows and reports whether
// more may remain. Retention is applied per kind as a prefix of that
// kind's chain: a row is deleted once its last event is older than its
// kind's retention and every earlier row of its kind has been deleted.
// The hash of the last deleted row becomes the chain's anchor, so the
// remaining rows still verify.
func (l *Ledger) pruneStep(ctx context.Context) (bool, error) {
	// Expired rows are long merged, but a clock set forward can expire
	// staged ones too: merge first so that one table holds the prefix.
	if l.w.staged > 0 {
		if err := l.merge(ctx); err != nil {
			return false, fmt.Errorf("retention: %w", err)
		}
		l.w.staged = 0
	}
	rules := l.Rules()
	now := l.opt.Now()
	w := &l.w
	// Cut-off per kind id; kinds the rules no longer name are kept.
	cutoff := map[int64]int64{}
	for _, k := range rules.Kinds {
		if id, ok := w.codes[k.Code]; ok {
			cutoff[id] = now.Add(-k.Retention()).UnixMilli()
		}
	}
	// A chain with no sealed rows left cannot be pruned further.
	active := map[int64]bool{}
	for kind := range w.chains {
		if _, ok := cutoff[kind]; ok {
			active[kind] = true
		}
	}
	if len(active) == 0 {
		return false, nil
	}
	// The anchor is the full hash of the last row removed, and a row
	// stores only a tag of it (rowTag): recompute the full hashes of the
	// rows removed, from the chain's current anchor, as Verify does.
	codes, apps, err := readDict(ctx, l.conn)
	if err != nil {
		return false, fmt.Errorf("retention: %w", err)
	}
	anchors := map[int64][]byte{}
	anchorSeq := map[int64]int64{}
	counts := map[int64]int64{}
	var del []int64
	var after int64
	for len(active) > 0 && len(del) < pruneChunk {
		rows, err := l.conn.QueryContext(ctx, `SELECT `+eventCols+` FROM ledger_all WHERE seq > ? ORDER BY seq LIMIT 1000`, after)
		if err != nil {
			return false, fmt.Errorf("retention: %w", err)
		}
		n := 0
		for rows.Next() && len(active) > 0 && len(del) < pruneChunk {
			var e eventRow
			if err := e.scan(rows); err != nil {
				rows.Close()
				return false, fmt.Errorf("retention: %w", err)
			}
			c, kind, h := &e.c, e.kind, e.hash
			seq, last := c.Seq, c.First+e.dur
			n++
			after = seq
			if !active[kind] {
				continue
			}
			if h == nil || last >= cutoff[kind] {
				delete(active, kind)
				continue
			}
			prev := anchors[kind]
			if prev == nil {
				if prev = w.chains[kind].anchorHash; prev == nil {
					prev = zeroHash
				}
			}
			e.resolve(codes, apps)
			full := rowHash(&w.h, prev, c)
			if !tagMatches(h, full) {
				// Changed before retention came to it: Verify names the
				// first row kept, whose hash no longer follows.
				l.opt.Logger.Error("ledger retention: a row it removes does not match its hash", "seq", seq, "kind", codes[kind])
			}
			del = append(del, seq)
			anchors[kind], anchorSeq[kind] = full, seq
			counts[kind]++
			if c := w.chains[kind]; c != nil && seq == c.headSeq && len(c.open) == 0 {
				delete(active, kind) // the chain is now empty
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return false, fmt.Errorf("retention: %w", err)
		}
		if n == 0 {
			break
		}
	}
	if len(del) == 0 {
		return false, nil
	}
	tx, err := l.conn.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("retention: %w", err)
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `DELETE FROM ledger_event WHERE seq = ?`)
	if err != nil {
		return false, fmt.Errorf("retention: %w", err)
	}
	defer st.Close()
	for _, seq := range del {
		if _, err := st.ExecContext(ctx, seq); err != nil {
			return false, fmt.Errorf("retention: %w", err)
		}
	}
	for kind, h := range anchors {
		if _, err := tx.ExecContext(ctx, `UPDATE ledger_chain SET anchor_seq = ?, anchor_hash = ?, pruned = pruned + ? WHERE kind = ?`,
			anchorSeq[kind], h, counts[kind], kind); err != nil {
			return false, fmt.Errorf("retention: %w", err)
		}
	}
	// The tip's digest is computed from the writer's copy of the chain
	// records: bring it in line with the table first, and reload it
	// should the transaction not commit.
	for kind, h := range anchors {
		if c := w.chains[kind]; c != nil {
			c.anchorSeq, c.anchorHash, c.pruned = anchorSeq[kind], h, c.pruned+counts[kind]
		}
	}
	err = l.writeTip(ctx, &txStmts{tx: tx, all: &l.st})
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		l.reload(ctx)
		return false, fmt.Errorf("retention: %w", err)
	}
	l.pruned.Add(int64(len(del)))
	l.opt.Logger.Info("ledger retention", "deleted", len(del))
	return len(del) == pruneChunk, nil
}
