package ledger

import (
	"context"
	"fmt"
)

// Count returns how many rows match f: the total a list cut by Query's
// limit is out of ("showing 50 of 1,234"). It counts what Query lists,
// rows, not the events coalesced into them. With a filter SQLite answers
// from an index; without one it walks the rows (about a second on a
// 10 M-row ledger), so callers ask for it only when a page was cut.
func (r *Reader) Count(ctx context.Context, f Filter) (int64, error) {
	w, args, ok, err := r.where(ctx, f)
	if err != nil || !ok {
		return 0, err
	}
	src, args := fromRows("seq", w, args)
	var n int64
	if err := r.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+src, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count ledger rows: %w", err)
	}
	return n, nil
}

// Count is Reader.Count after a flush.
func (l *Ledger) Count(ctx context.Context, f Filter) (int64, error) {
	if err := l.fresh(ctx); err != nil {
		return 0, err
	}
	return l.Reader.Count(ctx, f)
}
