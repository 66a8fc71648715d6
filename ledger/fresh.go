package ledger

import (
	"context"
	"time"
)

// The reads of a live Ledger flush the writer first, so that a read
// after an acknowledged call sees that call's records, and a read after
// a hot-path Enqueue sees those too (read-your-writes), rather than
// missing what is still gathered for commit_delay or queued. A flush
// that fails to commit (a full disk, say) does not stop the read: it
// serves what is stored; only the caller's context ends it.

func (l *Ledger) fresh(ctx context.Context) error {
	l.Flush(ctx)
	return ctx.Err()
}

// Query is Reader.Query after a flush.
func (l *Ledger) Query(ctx context.Context, f Filter, cursor string, limit int) (Page, error) {
	if err := l.fresh(ctx); err != nil {
		return Page{}, err
	}
	return l.Reader.Query(ctx, f, cursor, limit)
}

// Export is Reader.Export after a flush.
func (l *Ledger) Export(ctx context.Context, f Filter, cursor string, limit int) (Page, error) {
	if err := l.fresh(ctx); err != nil {
		return Page{}, err
	}
	return l.Reader.Export(ctx, f, cursor, limit)
}

// Summary is Reader.Summary after a flush.
func (l *Ledger) Summary(ctx context.Context, f Filter) ([]SummaryRow, error) {
	if err := l.fresh(ctx); err != nil {
		return nil, err
	}
	return l.Reader.Summary(ctx, f)
}

// Timeline is Reader.Timeline after a flush.
func (l *Ledger) Timeline(ctx context.Context, f Filter, bucket time.Duration) ([]Bucket, error) {
	if err := l.fresh(ctx); err != nil {
		return nil, err
	}
	return l.Reader.Timeline(ctx, f, bucket)
}

// Verify is Reader.Verify after a flush.
func (l *Ledger) Verify(ctx context.Context) (VerifyReport, error) {
	if err := l.fresh(ctx); err != nil {
		return VerifyReport{}, err
	}
	return l.Reader.Verify(ctx)
}

// CountSince is Reader.CountSince after a flush: a frequency count
// seeded from the ledger includes the accesses still in the writer's
// window.
func (l *Ledger) CountSince(ctx context.Context, uid int, category string, results []string, since time.Time) (int64, error) {
	if err := l.fresh(ctx); err != nil {
		return 0, err
	}
	return l.Reader.CountSince(ctx, uid, category, results, since)
}
