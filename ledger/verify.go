package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// VerifyReport is the outcome of walking the chains.
type VerifyReport struct {
	OK       bool    `json:"ok"`
	Rows     int64   `json:"rows"`
	Sealed   int64   `json:"sealed"`
	Open     int64   `json:"open"`
	Pruned   int64   `json:"pruned"`
	Chains   int     `json:"chains"`
	FirstBad *BadRow `json:"first_bad,omitempty"`
	// Problems lists every distinct problem found (FirstBad first), at
	// most maxProblems: one deletion often shows in several ways.
	Problems []BadRow `json:"problems,omitempty"`
}

// maxProblems bounds VerifyReport.Problems.
const maxProblems = 20

// BadRow names the first row that does not verify and why.
type BadRow struct {
	Seq     int64  `json:"seq"`
	Kind    string `json:"kind"`
	Problem string `json:"problem"`
}

// Verify walks every chain in one read snapshot: each sealed row's hash
// must equal SHA-256(previous hash of its kind || its content), starting
// from the kind's anchor (the last row removed by retention) or zeros;
// no sealed row may follow an open one; each chain must end at its
// recorded head (so removing the newest rows is detected too). Across
// kinds (ledger_tip, see schema.go): seq must run without gaps up to the
// tip's last_seq, except below the retention anchors, where exactly as
// many rows may be missing as retention counted; and the chain records
// must match the digest committed with the newest rows (so removing a
// whole kind with its chain record, or emptying the chain table, is
// detected).
func (r *Reader) Verify(ctx context.Context) (VerifyReport, error) {
	rep := VerifyReport{}
	conn, err := r.db.Conn(ctx)
	if err != nil {
		return rep, fmt.Errorf("verify ledger: %w", err)
	}
	defer conn.Close()
	// A deferred transaction is a consistent snapshot in WAL mode without
	// taking the write lock, so the writer keeps committing meanwhile.
	if _, err := conn.ExecContext(ctx, "BEGIN DEFERRED"); err != nil {
		return rep, fmt.Errorf("verify ledger: %w", err)
	}
	defer conn.ExecContext(context.Background(), "ROLLBACK")
	codes, apps, err := readDict(ctx, conn)
	if err != nil {
		return rep, fmt.Errorf("verify ledger: %w", err)
	}
	type chainState struct {
		prev            []byte
		anchor, headSeq int64
		headHash        []byte
		last            int64
		lastHash        []byte
		sawOpen         bool
		// diverged says a tagged row did not match: every later full
		// hash of the chain differs too, so later rows are not named
		// one by one (the first changed row is).
		diverged bool
	}
	chains := map[int64]*chainState{}
	rows, err := conn.QueryContext(ctx, `SELECT kind, anchor_seq, anchor_hash, pruned, head_seq, head_hash FROM ledger_chain`)
	if err != nil {
		return rep, fmt.Errorf("verify ledger: %w", err)
	}
	for rows.Next() {
		var kind, pruned int64
		c := &chainState{}
		if err := rows.Scan(&kind, &c.anchor, &c.prev, &pruned, &c.headSeq, &c.headHash); err != nil {
			rows.Close()
			return rep, fmt.Errorf("verify ledger: %w", err)
		}
		if c.prev == nil {
			c.prev = zeroHash
		}
		c.last, c.lastHash = c.anchor, c.prev
		chains[kind] = c
		rep.Pruned += pruned
	}
	rows.Close()
	rep.Chains = len(chains)
	bad := func(seq, kind int64, f string, a ...any) {
		b := BadRow{Seq: seq, Kind: codes[kind], Problem: fmt.Sprintf(f, a...)}
		if len(rep.Problems) < maxProblems {
			rep.Problems = append(rep.Problems, b)
		}
	}
	// must is bad for the few checks made once at the end, which are
	// listed even when row problems filled the list.
	must := func(seq int64, f string, a ...any) {
		rep.Problems = append(rep.Problems, BadRow{Seq: seq, Problem: fmt.Sprintf(f, a...)})
	}
	// The tip (schema version 3 on): last_seq and the heads digest.
	var schema int
	conn.QueryRowContext(ctx, `SELECT version FROM schema_version WHERE component = ?`, Component).Scan(&schema)
	var tipSeq int64
	var tipHeads []byte
	hasTip := false
	if schema >= 3 {
		err := conn.QueryRowContext(ctx, `SELECT last_seq, heads FROM ledger_tip WHERE id = 1`).Scan(&tipSeq, &tipHeads)
		switch {
		case err == nil:
			hasTip = true
		case errors.Is(err, sql.ErrNoRows) || strings.Contains(err.Error(), "no such table"):
			bad(0, 0, "the ledger's tip record (ledger_tip) is missing: the newest rows and the chain records cannot be checked")
		default:
			return rep, fmt.Errorf("verify ledger: %w", err)
		}
	}
	var maxAnchor, prunedTotal int64
	for _, c := range chains {
		maxAnchor = max(maxAnchor, c.anchor)
	}
	prunedTotal = rep.Pruned
	var prevSeq, missingBelow int64
	// Gaps after the first few are counted, not listed one by one.
	var gaps, gapRows, moreAt int64
	// gap notes the seqs after prevSeq and before seq as missing: within
	// the retention anchors only counted (retention removes rows of one
	// kind as a prefix, interleaved with kept rows of other kinds), above
	// them a deletion.
	gap := func(seq int64) {
		lo, hi := prevSeq+1, seq-1
		if lo > hi {
			return
		}
		below := min(hi, maxAnchor) - lo + 1
		if below > 0 {
			missingBelow += below
			lo += below
		}
		if lo > hi {
			return
		}
		if gaps++; gaps > 3 {
			gapRows += hi - lo + 1
			if moreAt == 0 {
				moreAt = lo
			}
			return
		}
		if lo == hi {
			bad(lo, 0, "row %d is missing: the sequence jumps from row %d to row %d, and retention removed no row after row %d", lo, prevSeq, seq, maxAnchor)
		} else {
			bad(lo, 0, "rows %d to %d are missing: the sequence jumps from row %d to row %d, and retention removed no row after row %d", lo, hi, prevSeq, seq, maxAnchor)
		}
	}
	rows, err = conn.QueryContext(ctx, `SELECT `+eventCols+` FROM ledger_all ORDER BY seq`)
	if err != nil {
		return rep, fmt.Errorf("verify ledger: %w", err)
	}
	var h hasher
	for rows.Next() {
		var e eventRow
		if err := e.scan(rows); err != nil {
			rows.Close()
			return rep, fmt.Errorf("verify ledger: %w", err)
		}
		c, kind, hv := &e.c, e.kind, e.hash
		rep.Rows++
		if hasTip {
			gap(c.Seq)
		}
		prevSeq = c.Seq
		ch := chains[kind]
		if ch == nil {
			bad(c.Seq, kind, "row %d is of kind %q, which has no chain record (the chain record was removed)", c.Seq, codes[kind])
			ch = &chainState{prev: zeroHash}
			chains[kind] = ch
		}
		if hv == nil {
			rep.Open++
			ch.sawOpen = true
			if c.Seq <= ch.headSeq {
				bad(c.Seq, kind, "row before the chain head has no hash")
			}
			continue
		}
		rep.Sealed++
		if ch.sawOpen {
			bad(c.Seq, kind, "sealed row after an open row of the same kind")
		}
		if c.Seq <= ch.anchor {
			bad(c.Seq, kind, "row at or before the retention anchor %d", ch.anchor)
		}
		if !e.resolve(codes, apps) {
			bad(c.Seq, kind, "unknown app id %d", e.app)
		}
		// The chain goes on from the recomputed full hash: a row sealed
		// under schema 4 stores only a tag of it (rowTag). A row sealed
		// before stores its full hash, and the chain goes on from that,
		// as it always did, so that one changed row is named once.
		want := rowHash(&h, ch.prev, c)
		next := want
		switch {
		case len(hv) == len(want):
			if string(hv) != string(want) {
				bad(c.Seq, kind, "hash does not match content and previous row (row changed, or a row before it removed)")
			}
			next, ch.diverged = hv, false
		case !tagMatches(hv, want):
			if !ch.diverged {
				if ch.last > 0 {
					// The previous row's tag matched, which a changed row
					// still does 1 time in 256 (rowTag): say so.
					bad(c.Seq, kind, "hash does not match content and previous row (row changed, or a row before it removed; or, 1 time in 256, row %d of the same kind changed and kept its one-byte tag)", ch.last)
				} else {
					bad(c.Seq, kind, "hash does not match content and previous row (row changed, or a row before it removed)")
				}
			}
			ch.diverged = true
		}
		ch.prev = next
		ch.last, ch.lastHash = c.Seq, next
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return rep, fmt.Errorf("verify ledger: %w", err)
	}
	if hasTip {
		if gaps > 3 {
			must(moreAt, "%d more gaps in the sequence from row %d on: %d more rows missing that retention did not remove", gaps-3, moreAt, gapRows)
		}
		if lo, hi := max(prevSeq+1, maxAnchor+1), tipSeq; lo == hi {
			must(lo, "the newest row %d is missing: the newest row left is %d, but the tip records row %d as written", lo, prevSeq, tipSeq)
		} else if lo < hi {
			must(lo, "the newest rows %d to %d are missing: the newest row left is %d, but the tip records row %d as written", lo, hi, prevSeq, tipSeq)
		}
		if prevSeq < tipSeq {
			missingBelow += max(0, min(tipSeq, maxAnchor)-prevSeq)
		} else if prevSeq > tipSeq {
			must(prevSeq, "row %d is newer than the newest row the tip records (%d): the tip record was altered", prevSeq, tipSeq)
		}
		if missingBelow != prunedTotal {
			must(0, "%d rows are missing from the sequence below the retention anchors, but the chain records count %d removed by retention: rows were deleted outside retention, or the counts altered", missingBelow, prunedTotal)
		}
		if tipHeads != nil {
			d, n, err := headsDigest(ctx, conn, tipSeq)
			if err != nil {
				return rep, fmt.Errorf("verify ledger: %w", err)
			}
			if string(d) != string(tipHeads) {
				must(tipSeq, "the %d chain records (ledger_chain) do not match the digest committed with row %d: a chain record was removed, added or altered", n, tipSeq)
			}
		}
	}
	kinds := make([]int64, 0, len(chains))
	for kind := range chains {
		kinds = append(kinds, kind)
	}
	slices.Sort(kinds)
	for _, kind := range kinds {
		ch := chains[kind]
		head := ch.headHash
		if head == nil {
			head = zeroHash
		}
		switch {
		case ch.last != ch.headSeq:
			bad(ch.headSeq, kind, "the chain of kind %q ends at row %d, but its recorded head is row %d (rows of this kind removed, or the head altered)", codes[kind], ch.last, ch.headSeq)
		case string(ch.lastHash) != string(head) && !ch.diverged:
			bad(ch.headSeq, kind, "row %d ends the chain of kind %q as recorded, but its hash differs from the recorded head hash (the row or the head altered)", ch.last, codes[kind])
		}
	}
	if len(rep.Problems) > 0 {
		fb := rep.Problems[0]
		rep.FirstBad = &fb
	}
	rep.OK = rep.FirstBad == nil
	return rep, nil
}
