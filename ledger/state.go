package ledger

import (
	"context"
	"database/sql"
)

// The writer's state: what it keeps in memory between commits (next
// seq, dictionaries, chain heads, open rows) and how it is (re)loaded
// from the database.

type row struct {
	content
	appID, kindID, catID, opID, resID, stID int64
	inserted, dirty, sealed                 bool
	hash                                    []byte
	coalesce                                bool
	key                                     string
}

type chain struct {
	headSeq  int64
	headHash []byte // zeroHash before the first row
	open     []*row // in seq order
	changed  bool
	// The rest of the chain's ledger_chain record, as stored, which the
	// tip's digest covers (digest): the writer keeps it in memory so
	// that a commit does not read the table back to compute the digest.
	// recorded says ledger_chain has the record, headStored that its
	// head_hash is not NULL.
	anchorSeq, pruned    int64
	anchorHash           []byte
	recorded, headStored bool
}

type writerState struct {
	nextSeq int64
	codes   map[string]int64
	apps    map[string]int64 // uid + "\x00" + packages
	chains  map[int64]*chain // by kind id
	byKey   map[string]*row  // newest open coalescing row per key
	// dirty are open rows already in the database whose count changed
	// since the last commit: a commit touches those, not every open row.
	dirty []*row
	// open and openBytes are the open rows and their estimated memory
	// (rowBytes), kept below Options.MaxOpenBytes by sealEarly.
	open      int64
	openBytes int64
	h         hasher
	rulesV    int64 // rules version stored in ledger_rules
	staged    int64 // rows sealed into ledger_recent since the last merge
	// mergeFailed holds merges back until the next tick.
	mergeFailed bool
	// tipStale means ledger_tip has no digest yet (just migrated).
	tipStale bool
	// useIDs are the ids of the rows of ledger_use (uses in progress);
	// usesSeen is when they were last noted as still in progress, ms.
	usesSeen int64
	useIDs   map[uint64]struct{}
	useBuf   []byte // appendUseRecs' buffer
	// open and closed are the uses to write with the next commit.
	openUses   []OpenUse
	closedUses []uint64
}

// load reads the writer state from the database: next seq, codes, apps,
// chain heads, and rows still open.
func (l *Ledger) load(ctx context.Context) error {
	w := &l.w
	*w = writerState{codes: map[string]int64{}, apps: map[string]int64{}, chains: map[int64]*chain{}, byKey: map[string]*row{}, useIDs: map[uint64]struct{}{}}
	db := l.conn
	rows, err := db.QueryContext(ctx, `SELECT id FROM ledger_use`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		w.useIDs[uint64(id)] = struct{}{}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// The tip's last_seq counts too: a seq is never handed out twice,
	// even after the newest rows were removed, so the gap stays visible.
	var tipHeads []byte
	if err := db.QueryRowContext(ctx, `SELECT MAX(COALESCE((SELECT MAX(seq) FROM ledger_event), 0), COALESCE((SELECT MAX(seq) FROM ledger_recent), 0), COALESCE((SELECT MAX(MAX(anchor_seq, head_seq)) FROM ledger_chain), 0), COALESCE((SELECT last_seq FROM ledger_tip), 0)),
		(SELECT heads FROM ledger_tip)`).Scan(&w.nextSeq, &tipHeads); err != nil {
		return err
	}
	w.tipStale = tipHeads == nil
	w.nextSeq++
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM ledger_recent WHERE hash IS NOT NULL`).Scan(&w.staged); err != nil {
		return err
	}
	// The open rows below name their codes and app by id: resolve them
	// here rather than join ledger_code four times and ledger_app once
	// per row, which after a crash under load (tens of thousands of open
	// rows) was most of the time start-up spent reading them.
	codeOf, appOf, err := readDict(ctx, db)
	if err != nil {
		return err
	}
	for id, c := range codeOf {
		if id != 0 {
			w.codes[c] = id
		}
	}
	akey := make(map[int64]string, len(appOf))
	for id, a := range appOf {
		akey[id] = appKeyOf(a.uid, a.pk)
		w.apps[akey[id]] = id
	}
	minHead := int64(1 << 62)
	rows, err = db.QueryContext(ctx, `SELECT kind, head_seq, head_hash, anchor_seq, anchor_hash, pruned FROM ledger_chain`)
	if err != nil {
		return err
	}
	for rows.Next() {
		c := &chain{}
		var kind int64
		if err := rows.Scan(&kind, &c.headSeq, &c.headHash, &c.anchorSeq, &c.anchorHash, &c.pruned); err != nil {
			rows.Close()
			return err
		}
		c.recorded, c.headStored = true, c.headHash != nil
		if c.headHash == nil {
			c.headHash = zeroHash
		}
		w.chains[kind] = c
		minHead = min(minHead, c.headSeq)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(w.chains) == 0 {
		minHead = 0
	}
	// Open rows are those after their chain's head with no hash yet.
	rows, err = db.QueryContext(ctx, `SELECT seq, t, dur, n, app, kind, cat, op, res, st, rules, detail
		FROM ledger_recent WHERE seq > ? AND hash IS NULL ORDER BY seq`, minHead)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		rw := &row{inserted: true}
		var op, res, st sql.NullInt64
		var detail sql.NullString
		var dur int64
		if err := rows.Scan(&rw.Seq, &rw.First, &dur, &rw.Count, &rw.appID, &rw.kindID, &rw.catID,
			&op, &res, &st, &rw.Rules, &detail); err != nil {
			return err
		}
		a, okApp := appOf[rw.appID]
		kind, cat := codeOf[rw.kindID], codeOf[rw.catID]
		if !okApp || kind == "" || cat == "" {
			// The inner joins this replaces left such a row out too; say
			// so rather than skip it silently.
			l.opt.Logger.Error("ledger: open row names an app or code the database lacks; left unsealed", "seq", rw.Seq, "app", rw.appID, "kind", rw.kindID, "category", rw.catID)
			continue
		}
		rw.UID, rw.Packages, rw.Kind, rw.Category = a.uid, a.pk, kind, cat
		rw.Last = rw.First + dur
		rw.opID, rw.resID, rw.stID = op.Int64, res.Int64, st.Int64
		rw.Op, rw.Result, rw.AppState, rw.Detail = codeOf[rw.opID], codeOf[rw.resID], codeOf[rw.stID], detail.String
		c := w.chains[rw.kindID]
		if c == nil {
			c = &chain{headHash: zeroHash}
			w.chains[rw.kindID] = c
		}
		if rw.Seq <= c.headSeq {
			continue
		}
		if k := l.Rules().Kind(rw.Kind); k != nil && k.Coalesce {
			rw.coalesce = true
			rw.key = coalesceKey(akey[rw.appID], rw.Kind, rw.Category, rw.Op, rw.Result, rw.AppState, rw.Detail)
			w.byKey[rw.key] = rw
		}
		c.open = append(c.open, rw)
		w.open++
		w.openBytes += rowBytes(rw)
	}
	return rows.Err()
}
