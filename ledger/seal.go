package ledger

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Sealing: an open row gets its hash and moves its chain's head, when
// its window ends or to bound the writer's memory.

// seal hashes rw, the first open row of c, onto c's head and adds it to
// sealed.
func (l *Ledger) seal(c *chain, rw *row, sealed []*row) []*row {
	w := &l.w
	rw.hash = rowHash(&w.h, c.headHash, &rw.content)
	rw.sealed = true
	c.headSeq, c.headHash, c.changed = rw.Seq, rw.hash, true
	if rw.key != "" && w.byKey[rw.key] == rw {
		delete(w.byKey, rw.key)
	}
	w.open--
	w.openBytes -= rowBytes(rw)
	return append(sealed, rw)
}

// sealEarly seals the oldest open rows, across chains, until their
// memory is back to three quarters of Options.MaxOpenBytes, so that no
// load (say a flood of distinct reports, each opening a row) can grow
// the writer without bound. Nothing is lost: a sealed row keeps its
// exact count and times; an identical event later in the same window
// starts a new row instead of joining it, which costs space, not truth.
// Rows are sealed in seq order within each chain, as always.
func (l *Ledger) sealEarly(sealed []*row) []*row {
	w := &l.w
	target := l.opt.MaxOpenBytes * 3 / 4
	// Find the seq below which every open row must go: walk open rows
	// newest first (a merge of the chains' tails) until the budget is
	// spent.
	type cur struct {
		c *chain
		i int
	}
	var heads []cur
	for _, c := range w.chains {
		if len(c.open) > 0 {
			heads = append(heads, cur{c, len(c.open) - 1})
		}
	}
	var keep int64
	cut := int64(0)
	for len(heads) > 0 {
		best := 0
		for j := range heads {
			if heads[j].c.open[heads[j].i].Seq > heads[best].c.open[heads[best].i].Seq {
				best = j
			}
		}
		h := &heads[best]
		rw := h.c.open[h.i]
		if keep+rowBytes(rw) > target {
			cut = rw.Seq
			break
		}
		keep += rowBytes(rw)
		if h.i--; h.i < 0 {
			heads = slices.Delete(heads, best, best+1)
		}
	}
	n := 0
	for _, c := range w.chains {
		i := 0
		for ; i < len(c.open) && c.open[i].Seq <= cut; i++ {
			sealed = l.seal(c, c.open[i], sealed)
			n++
		}
		c.open = c.open[i:]
	}
	l.early.Add(int64(n))
	return sealed
}

// rowBytes estimates what an open row costs the writer: the row and its
// strings, the coalescing key (which repeats most of them) and the map
// and slice entries that point at it. Measured against the Go heap in
// TestOpenRowsBounded.
func rowBytes(rw *row) int64 {
	return int64(rowOverhead + len(rw.key) + len(rw.Kind) + len(rw.Category) + len(rw.Op) +
		len(rw.Result) + len(rw.AppState) + len(rw.Detail))
}

// rowOverhead is the fixed part of rowBytes.
const rowOverhead = 500

// sealRows is how many rows one multi-row seal UPDATE carries.
const sealRows = 32

// sealOneSQL and sealManySQL write sealed rows' final count, duration
// and hash. A restart after a crash under load seals tens of thousands
// of rows before it serves; one statement per row was half of that
// time, and sealRows rows per statement take less than half the CPU
// (docs/performance.md, "Start-up time"). The VALUES rows are the driving table (column1 = seq), so each finds its
// row by primary key.
const sealOneSQL = `UPDATE ledger_recent SET n = ?, dur = ?, hash = ? WHERE seq = ?`

var sealManySQL = `UPDATE ledger_recent SET n = v.column2, dur = v.column3, hash = v.column4 FROM (VALUES ` +
	strings.TrimSuffix(strings.Repeat(`(?,?,?,?),`, sealRows), ",") + `) AS v WHERE ledger_recent.seq = v.column1`

// writeSeals stores the count, duration and hash of the rows of sealed
// already in the database (rows inserted in this commit carry theirs).
func (l *Ledger) writeSeals(ctx context.Context, ts *txStmts, sealed []*row) error {
	var todo []*row
	for _, rw := range sealed {
		if rw.inserted {
			todo = append(todo, rw)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	args := make([]any, 0, 4*sealRows)
	bulk := len(todo) / sealRows * sealRows
	if bulk > 0 {
		st := ts.get(ctx, stSealMany)
		for i := 0; i < bulk; i += sealRows {
			args = args[:0]
			for _, rw := range todo[i : i+sealRows] {
				args = append(args, rw.Seq, rw.Count, rw.Last-rw.First, rowTag(rw.hash))
			}
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("seal: %w", err)
			}
		}
	}
	if bulk < len(todo) {
		st := ts.get(ctx, stSealOne)
		for _, rw := range todo[bulk:] {
			if _, err := st.ExecContext(ctx, rw.Count, rw.Last-rw.First, rowTag(rw.hash), rw.Seq); err != nil {
				return fmt.Errorf("seal: %w", err)
			}
		}
	}
	return nil
}
