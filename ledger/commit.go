package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// One commit: the records of a batch become rows in one transaction.

// prep is what the writer needs of a record beyond the record itself.
// Append computes it on the reporter's goroutine, so that the one
// writer goroutine, which every report waits for, does less.
type prep struct {
	t    int64  // first event, ms
	pk   string // the uid's packages, sorted, comma-joined
	akey string // uid + "\x00" + pk: the ledger_app key
	key  string // coalescing key
}

// appKey is a uid's packages and ledger_app key, resolved once per uid
// for all the records prepared together.
type appKey struct{ pk, akey string }

// prepare computes recs' prep, resolving each uid's packages once per
// seen map (one report, or one commit of hot-path records).
func (l *Ledger) prepare(recs []Record, seen map[int]appKey) []prep {
	out := make([]prep, len(recs))
	for i, rec := range recs {
		a, ok := seen[rec.UID]
		if !ok {
			if l.opt.Packages != nil {
				ps := slices.Clone(l.opt.Packages(rec.UID))
				slices.Sort(ps)
				a.pk = strings.Join(slices.Compact(ps), ",")
			}
			a.akey = appKeyOf(int64(rec.UID), a.pk)
			seen[rec.UID] = a
		}
		out[i] = prep{t: rec.Time.UnixMilli(), pk: a.pk, akey: a.akey,
			key: coalesceKey(a.akey, rec.Kind, rec.Category, rec.Op, rec.Result, rec.AppState, string(rec.Detail))}
	}
	return out
}

const (
	insertSQL = `INSERT INTO ledger_recent(` + eventCols + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`
	// insertRows is how many rows one multi-row INSERT carries.
	insertRows = 32
)

// insertManySQL inserts insertRows rows. The rows of one commit have
// consecutive seqs and one rules version, so those are bound once per
// statement (?1 the first seq, ?2 the version) and each row binds the
// other 11 columns: binding is most of what an insert into the
// unindexed ledger_recent costs.
var insertManySQL = func() string {
	var b strings.Builder
	b.WriteString(`INSERT INTO ledger_recent(` + eventCols + `) VALUES `)
	for k := range insertRows {
		if k > 0 {
			b.WriteByte(',')
		}
		p := 3 + manyRowArgs*k
		fmt.Fprintf(&b, "(?1+%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d,?%d,?2,?%d,?%d)", k, p, p+1, p+2, p+3, p+4, p+5, p+6, p+7, p+8, p+9, p+10)
	}
	return b.String()
}()

// manyRowArgs is how many arguments each row of insertManySQL binds.
const manyRowArgs = 11

// appKeyOf is the writer's key of an app: its uid and its packages.
func appKeyOf(uid int64, packages string) string {
	return strconv.FormatInt(uid, 10) + "\x00" + packages
}

func coalesceKey(app, kind, cat, op, res, st, detail string) string {
	return app + "\x00" + kind + "\x00" + cat + "\x00" + op + "\x00" + res + "\x00" + st + "\x00" + detail
}

// commit adds recs to the ledger in one transaction: coalescing into open
// rows, inserting new rows, sealing rows whose window ended (all of them
// when force), and moving chain heads. with, if set, runs first in the
// same transaction; its error comes back as a *withError, before any
// writer state changed.
func (l *Ledger) commit(ctx context.Context, recs []Record, pre []prep, force bool, with func(context.Context, *sql.Tx) error) error {
	w := &l.w
	tx, err := l.conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if with != nil {
		if err := with(ctx, tx); err != nil {
			return &withError{err}
		}
	}
	cs := &commitState{txStmts: txStmts{tx: tx, all: &l.st}, rules: l.Rules()}
	if len(w.openUses) > 0 || len(w.closedUses) > 0 || l.usesDue() {
		if err := l.applyUses(ctx, &cs.txStmts, w.openUses, w.closedUses); err != nil {
			return err
		}
	}
	cs.win = cs.rules.Window().Milliseconds()
	if err := l.noteRules(ctx, cs, len(recs)); err != nil {
		return err
	}
	if err := l.addRecords(ctx, cs, recs, pre); err != nil {
		return err
	}
	l.sealEnded(cs, force)
	if err := l.insertFresh(ctx, cs); err != nil {
		return err
	}
	if err := l.updateCounts(ctx, cs); err != nil {
		return err
	}
	if err := l.moveHeads(ctx, cs); err != nil {
		return err
	}
	if len(cs.fresh) > 0 || len(cs.sealed) > 0 || w.tipStale {
		if err := l.writeTip(ctx, &cs.txStmts); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	l.committed.Add(int64(len(recs)))
	l.afterCommit(cs, len(recs) > 0)
	return nil
}

// commitState is what the steps of one commit share.
type commitState struct {
	txStmts
	rules *Rules
	win   int64 // the coalescing window, ms
	// fresh are the rows this commit inserts; sealed the rows it seals
	// (fresh or already stored).
	fresh, sealed []*row
	// newDict says the commit added dictionary entries (codes or apps),
	// which readers must reload.
	newDict bool
}

// noteRules stores the body of the rules version the records are
// recorded under, once per version.
func (l *Ledger) noteRules(ctx context.Context, cs *commitState, recs int) error {
	w := &l.w
	if recs == 0 || w.rulesV == int64(cs.rules.Version) {
		return nil
	}
	if err := cs.exec(ctx, stRules, cs.rules.Version, string(cs.rules.Raw())); err != nil {
		return fmt.Errorf("rules version: %w", err)
	}
	w.rulesV = int64(cs.rules.Version)
	return nil
}

// code returns the dictionary id of s, adding it in cs's transaction if
// it is new; the empty code is 0 (stored as NULL).
func (l *Ledger) code(ctx context.Context, cs *commitState, s string) (int64, error) {
	w := &l.w
	if s == "" {
		return 0, nil
	}
	if id, ok := w.codes[s]; ok {
		return id, nil
	}
	var id int64
	err := cs.get(ctx, stCode).QueryRowContext(ctx, s).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("dictionary: %w", err)
	}
	w.codes[s] = id
	cs.newDict = true
	return id, nil
}

// appID returns the ledger_app id of a record's uid and packages,
// adding it in cs's transaction if it is new.
func (l *Ledger) appID(ctx context.Context, cs *commitState, uid int, p *prep) (int64, error) {
	w := &l.w
	if id, ok := w.apps[p.akey]; ok {
		return id, nil
	}
	var id int64
	if err := cs.get(ctx, stApp).QueryRowContext(ctx, uid, p.pk).Scan(&id); err != nil {
		return 0, fmt.Errorf("app: %w", err)
	}
	w.apps[p.akey] = id
	cs.newDict = true
	return id, nil
}

// addRecords merges each record into its open row when an identical
// event opened one inside the window, and otherwise makes it a new row
// (cs.fresh) at the end of its kind's chain.
func (l *Ledger) addRecords(ctx context.Context, cs *commitState, recs []Record, pre []prep) error {
	w := &l.w
	cs.fresh = make([]*row, 0, len(recs))
	for i, rec := range recs {
		p := &pre[i]
		app, err := l.appID(ctx, cs, rec.UID, p)
		if err != nil {
			return err
		}
		t := p.t
		k := cs.rules.Kind(rec.Kind)
		var key string
		if k.Coalesce {
			key = p.key
			if rw := w.byKey[key]; rw != nil && !rw.sealed && t >= rw.First && t < rw.First+cs.win {
				rw.Count++
				rw.Last = max(rw.Last, t)
				// A row not yet inserted goes in with its final count.
				if rw.inserted && !rw.dirty {
					rw.dirty = true
					w.dirty = append(w.dirty, rw)
				}
				continue
			}
		}
		rw := &row{content: content{
			Seq: w.nextSeq, First: t, Last: t, Count: 1, UID: int64(rec.UID), Packages: p.pk,
			Kind: rec.Kind, Category: rec.Category, Op: rec.Op, Result: rec.Result, AppState: rec.AppState,
			Rules: int64(cs.rules.Version), Detail: string(rec.Detail),
		}, appID: app, coalesce: k.Coalesce, key: key}
		w.nextSeq++
		if rw.kindID, err = l.code(ctx, cs, rec.Kind); err == nil {
			if rw.catID, err = l.code(ctx, cs, rec.Category); err == nil {
				if rw.opID, err = l.code(ctx, cs, rec.Op); err == nil {
					if rw.resID, err = l.code(ctx, cs, rec.Result); err == nil {
						rw.stID, err = l.code(ctx, cs, rec.AppState)
					}
				}
			}
		}
		if err != nil {
			return err
		}
		c := w.chains[rw.kindID]
		if c == nil {
			c = &chain{headHash: zeroHash, recorded: true}
			w.chains[rw.kindID] = c
			if err := cs.exec(ctx, stChainNew, rw.kindID); err != nil {
				return fmt.Errorf("chain: %w", err)
			}
		}
		c.open = append(c.open, rw)
		if key != "" {
			w.byKey[key] = rw
		}
		cs.fresh = append(cs.fresh, rw)
		w.open++
		w.openBytes += rowBytes(rw)
	}
	return nil
}

// sealEnded seals, per chain, the leading open rows whose window has
// ended (every open row when force), then the oldest ones while the
// open rows' memory is over its bound.
func (l *Ledger) sealEnded(cs *commitState, force bool) {
	w := &l.w
	now := l.opt.Now().UnixMilli()
	for _, c := range w.chains {
		i := 0
		for ; i < len(c.open); i++ {
			rw := c.open[i]
			if !force && rw.coalesce && now < rw.First+cs.win {
				break
			}
			cs.sealed = l.seal(c, rw, cs.sealed)
		}
		c.open = c.open[i:]
	}
	if w.openBytes > l.opt.MaxOpenBytes {
		cs.sealed = l.sealEarly(cs.sealed)
	}
}

func nullZero(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

func nullEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// insertFresh inserts the commit's new rows into ledger_recent, which
// has no secondary index, with insertRows rows per statement and single
// rows for the rest: with no index to maintain, binding dominates, and
// fewer statement calls measured about a third faster per row than one
// row per call.
func (l *Ledger) insertFresh(ctx context.Context, cs *commitState) error {
	fresh := cs.fresh
	if len(fresh) == 0 {
		return nil
	}
	args := make([]any, 0, 2+manyRowArgs*insertRows)
	tag := func(rw *row) any {
		if rw.sealed {
			return rowTag(rw.hash)
		}
		return nil
	}
	bulk := len(fresh) / insertRows * insertRows
	if bulk > 0 {
		ins := cs.get(ctx, stInsMany)
		for i := 0; i < bulk; i += insertRows {
			chunk := fresh[i : i+insertRows]
			args = append(args[:0], chunk[0].Seq, chunk[0].Rules)
			for k, rw := range chunk {
				if rw.Seq != chunk[0].Seq+int64(k) || rw.Rules != chunk[0].Rules {
					return fmt.Errorf("insert: row %d breaks the run of seqs and rules of its statement", rw.Seq)
				}
				args = append(args, rw.First, rw.Last-rw.First, rw.Count, rw.appID, rw.kindID, rw.catID,
					nullZero(rw.opID), nullZero(rw.resID), nullZero(rw.stID), nullEmpty(rw.Detail), tag(rw))
			}
			if _, err := ins.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("insert: %w", err)
			}
		}
	}
	if bulk < len(fresh) {
		ins := cs.get(ctx, stInsOne)
		for _, rw := range fresh[bulk:] {
			args = append(args[:0], rw.Seq, rw.First, rw.Last-rw.First, rw.Count, rw.appID, rw.kindID, rw.catID,
				nullZero(rw.opID), nullZero(rw.resID), nullZero(rw.stID), rw.Rules, nullEmpty(rw.Detail), tag(rw))
			if _, err := ins.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("insert: %w", err)
			}
		}
	}
	return nil
}

// updateCounts writes the count and duration of open rows, already
// stored, that events joined in this commit.
func (l *Ledger) updateCounts(ctx context.Context, cs *commitState) error {
	for _, rw := range l.w.dirty {
		// A sealed row's count goes with its hash (writeSeals).
		if rw.sealed {
			continue
		}
		if err := cs.exec(ctx, stCount, rw.Count, rw.Last-rw.First, rw.Seq); err != nil {
			return fmt.Errorf("update: %w", err)
		}
	}
	return nil
}

// moveHeads stores the sealed rows' hashes and counts and the chains'
// new heads.
func (l *Ledger) moveHeads(ctx context.Context, cs *commitState) error {
	if len(cs.sealed) == 0 {
		return nil
	}
	if err := l.writeSeals(ctx, &cs.txStmts, cs.sealed); err != nil {
		return err
	}
	for kind, c := range l.w.chains {
		if c.changed {
			if err := cs.exec(ctx, stChainHead, c.headSeq, c.headHash, kind); err != nil {
				return fmt.Errorf("chain head: %w", err)
			}
			c.headStored = true
		}
	}
	return nil
}

// afterCommit brings the writer's memory and counters in line with what
// the transaction committed.
func (l *Ledger) afterCommit(cs *commitState, hadRecords bool) {
	w := &l.w
	w.tipStale = false
	w.openUses, w.closedUses = w.openUses[:0], w.closedUses[:0]
	for _, c := range w.chains {
		c.changed = false
	}
	for _, rw := range cs.fresh {
		rw.inserted = true
	}
	for _, rw := range w.dirty {
		rw.dirty = false
	}
	w.dirty = w.dirty[:0]
	l.openRows.Store(w.open)
	l.openBytes.Store(w.openBytes)
	l.rows.Add(int64(len(cs.fresh)))
	w.staged += int64(len(cs.sealed))
	if hadRecords || len(cs.sealed) > 0 {
		l.commits.Add(1)
	}
	if cs.newDict {
		l.Reader.invalidate()
	}
}
