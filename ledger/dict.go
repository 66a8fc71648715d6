package ledger

import (
	"context"
	"database/sql"
	"fmt"
)

// dictApp is a ledger_app row: a uid and its packages as stored,
// sorted and comma-joined.
type dictApp struct {
	uid int64
	pk  string
}

// readDict reads the dictionaries every row points into: each code by
// id (with 0 as the empty code, which rows store as NULL) and each app
// by id. The writer, the readers and Verify all read them through this
// one function, so a damaged dictionary row fails each of them the
// same way instead of being skipped by one.
func readDict(ctx context.Context, q querier) (map[int64]string, map[int64]dictApp, error) {
	codes := map[int64]string{0: ""}
	rows, err := q.QueryContext(ctx, `SELECT id, code FROM ledger_code`)
	if err != nil {
		return nil, nil, fmt.Errorf("codes: %w", err)
	}
	for rows.Next() {
		var id int64
		var c string
		if err := rows.Scan(&id, &c); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("codes: %w", err)
		}
		codes[id] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("codes: %w", err)
	}
	apps := map[int64]dictApp{}
	rows, err = q.QueryContext(ctx, `SELECT id, uid, packages FROM ledger_app`)
	if err != nil {
		return nil, nil, fmt.Errorf("apps: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var a dictApp
		if err := rows.Scan(&id, &a.uid, &a.pk); err != nil {
			return nil, nil, fmt.Errorf("apps: %w", err)
		}
		apps[id] = a
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("apps: %w", err)
	}
	return codes, apps, nil
}

// eventRow is one row of eventCols as read: its content with the codes
// still ids until resolve, and the hash (nil while the row is open).
// Retention and Verify both read rows this way, so they hash alike.
type eventRow struct {
	c                   content
	dur, app, kind, cat int64
	op, res, st         sql.NullInt64
	detail              sql.NullString
	hash                []byte
}

// scan reads the current row of rows (selected as eventCols).
func (e *eventRow) scan(rows *sql.Rows) error {
	*e = eventRow{}
	return rows.Scan(&e.c.Seq, &e.c.First, &e.dur, &e.c.Count, &e.app, &e.kind, &e.cat, &e.op, &e.res, &e.st, &e.c.Rules, &e.detail, &e.hash)
}

// resolve fills the content's names from the dictionaries; false when
// the row names an app the dictionary lacks (its uid and packages stay
// empty).
func (e *eventRow) resolve(codes map[int64]string, apps map[int64]dictApp) bool {
	a, ok := apps[e.app]
	e.c.Last = e.c.First + e.dur
	e.c.UID, e.c.Packages = a.uid, a.pk
	e.c.Kind, e.c.Category = codes[e.kind], codes[e.cat]
	e.c.Op, e.c.Result, e.c.AppState, e.c.Detail = codes[e.op.Int64], codes[e.res.Int64], codes[e.st.Int64], e.detail.String
	return ok
}
