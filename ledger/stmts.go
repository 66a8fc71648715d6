package ledger

import (
	"context"
	"database/sql"
	"fmt"
)

// stmtID names one of the writer's statements.
type stmtID int

const (
	stInsOne stmtID = iota
	stInsMany
	stSealOne
	stSealMany
	stCount
	stChainNew
	stChainHead
	stCode
	stApp
	stRules
	stTip
	stUseOpen
	stUseClose
	stUseSeen
	stMergeMove
	stMergeOpen
	stMergeEmpty
	stMergeSealed
	nStmts
)

// stmtSQL is the text of each writer statement. They are prepared once,
// when the ledger opens (prepareStmts), not in every commit: a commit
// that acknowledges one op.start, say, would otherwise spend more CPU
// parsing its few statements than running them.
var stmtSQL = [nStmts]string{
	stInsOne:    insertSQL,
	stInsMany:   insertManySQL,
	stSealOne:   sealOneSQL,
	stSealMany:  sealManySQL,
	stCount:     `UPDATE ledger_recent SET n = ?, dur = ? WHERE seq = ?`,
	stChainNew:  `INSERT INTO ledger_chain(kind) VALUES (?) ON CONFLICT(kind) DO NOTHING`,
	stChainHead: `UPDATE ledger_chain SET head_seq = ?, head_hash = ? WHERE kind = ?`,
	stCode:      `INSERT INTO ledger_code(code) VALUES (?) ON CONFLICT(code) DO UPDATE SET code = excluded.code RETURNING id`,
	stApp:       `INSERT INTO ledger_app(uid, packages) VALUES (?, ?) ON CONFLICT(uid, packages) DO UPDATE SET uid = excluded.uid RETURNING id`,
	stRules:     `INSERT INTO ledger_rules(version, body) VALUES (?, ?) ON CONFLICT(version) DO NOTHING`,
	stTip:       `UPDATE ledger_tip SET last_seq = ?, heads = ? WHERE id = 1`,
	stUseOpen: `INSERT INTO ledger_use(id, start_ms, seen_ms, recs) VALUES (?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET start_ms = excluded.start_ms, seen_ms = excluded.seen_ms, recs = excluded.recs`,
	stUseClose: `DELETE FROM ledger_use WHERE id = ?`,
	stUseSeen:  `UPDATE ledger_use SET seen_ms = ?`,
	// The merge (writer.go).
	stMergeMove:   `INSERT INTO ledger_event(` + eventCols + `) SELECT ` + eventCols + ` FROM ledger_recent WHERE hash IS NOT NULL ORDER BY seq`,
	stMergeOpen:   `SELECT EXISTS (SELECT 1 FROM ledger_recent WHERE hash IS NULL)`,
	stMergeEmpty:  `DELETE FROM ledger_recent`,
	stMergeSealed: `DELETE FROM ledger_recent WHERE hash IS NOT NULL`,
}

// stmts are the writer's prepared statements. They are prepared on the
// database, not on the writer's connection: database/sql reuses a
// database statement in a transaction on a connection it was already
// prepared on (Tx.StmtContext), but prepares a connection's own
// statement again in every transaction.
type stmts [nStmts]*sql.Stmt

func (s *stmts) prepare(ctx context.Context, db *sql.DB) error {
	for id, q := range stmtSQL {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		s[id] = st
	}
	return nil
}

func (s *stmts) close() {
	for _, st := range s {
		if st != nil {
			st.Close()
		}
	}
}

// txStmts are the writer's statements bound to one transaction, each
// bound the first time a commit uses it. The transaction closes them
// when it ends.
type txStmts struct {
	tx    *sql.Tx
	all   *stmts
	bound [nStmts]*sql.Stmt
}

func (t *txStmts) get(ctx context.Context, id stmtID) *sql.Stmt {
	if t.bound[id] == nil {
		t.bound[id] = t.tx.StmtContext(ctx, t.all[id])
	}
	return t.bound[id]
}

// exec runs statement id in the transaction.
func (t *txStmts) exec(ctx context.Context, id stmtID, args ...any) error {
	_, err := t.get(ctx, id).ExecContext(ctx, args...)
	return err
}
