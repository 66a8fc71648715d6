package ledger

import (
	"context"
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
