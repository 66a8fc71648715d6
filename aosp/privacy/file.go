package privacy

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"permd/framework/client"
	"permd/framework/protocol"
	"permd/framework/wire"
	"permd/grants"
	"permd/ledger"
	"permd/ledger/store"
)

// File is a Source reading a ledger database pulled from a device
// (`adb pull /data/system/permd/permd.db`), opened read-only: the file
// is never written, so it stays valid evidence. It answers the ledger
// reads, rules.get and the catalogue with the same results and the same
// parameter checks as the daemon; grants and the live indicator are not
// in a pulled ledger and are refused with a message saying so.
type File struct {
	Path string
	db   *sql.DB
	r    *ledger.Reader
	cat  *grants.Catalogue
}

// OpenFile opens path read-only.
func OpenFile(path string) (*File, error) {
	db, err := store.OpenReadOnly(path)
	if err != nil {
		return nil, err
	}
	cat, err := grants.LoadCatalogue()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("load catalogue: %w", err)
	}
	return &File{Path: path, db: db, r: ledger.NewReader(db), cat: cat}, nil
}

// Close closes the database.
func (f *File) Close() error { return f.db.Close() }

func rpcErr(code int, format string, args ...any) *client.RPCError {
	return &client.RPCError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// readParams are the daemon's: the filters and paging of the read
// methods. Unknown fields are refused, as the daemon does.
type readParams = protocol.ReadParams

func decode(params json.RawMessage, v any) error {
	switch string(params) {
	case "", "null", "{}":
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return rpcErr(protocol.CodeInvalidParams, "params: %v", err)
	}
	return nil
}

// Call answers one call from the file.
func (f *File) Call(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error) {
	v, err := f.call(ctx, method, params)
	if err != nil {
		var re *client.RPCError
		var ce *ledger.CursorError
		switch {
		case errors.As(err, &re):
		case errors.As(err, &ce):
			err = rpcErr(protocol.CodeInvalidParams, "cursor: not a cursor this file returned")
		default:
			err = rpcErr(protocol.CodeInternal, "read %s: %v", f.Path, err)
		}
		return nil, err
	}
	if raw, ok := v.(protocol.Rules); ok {
		return json.RawMessage(raw), nil
	}
	return json.Marshal(v)
}

func (f *File) call(ctx context.Context, method string, params json.RawMessage) (any, error) {
	var rp readParams
	switch method {
	case protocol.MethodLedgerSummary, protocol.MethodLedgerTimeline, protocol.MethodLedgerQuery, protocol.MethodLedgerExport:
		if err := decode(params, &rp); err != nil {
			return nil, err
		}
		if f := rp.NegativeTime(); f != "" {
			return nil, rpcErr(protocol.CodeInvalidParams, "%s: negative time", f)
		}
	}
	switch method {
	case protocol.MethodSysHealth:
		// source tells the pages that nothing here is live or editable.
		return map[string]any{"status": "ok", "source": "db", "file": f.Path, "you": map[string]any{"role": "read-only file"}}, nil
	case protocol.MethodRulesGet:
		var q protocol.RulesParams
		if err := decode(params, &q); err != nil {
			return nil, err
		}
		if q.Version == 0 {
			// The newest rules rows of this file were recorded under.
			if err := f.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM ledger_rules`).Scan(&q.Version); err != nil {
				return nil, err
			}
		}
		raw, err := f.r.RulesVersion(ctx, q.Version)
		if err != nil {
			return nil, err
		}
		if raw == nil {
			return nil, rpcErr(protocol.CodeNotFound, "rules version %d is not in this file", q.Version)
		}
		return protocol.Rules(raw), nil
	case protocol.MethodGrantsCatalogue:
		var q protocol.CatalogueParams
		if err := decode(params, &q); err != nil {
			return nil, err
		}
		if q.Lang != "" {
			return wire.Catalogue(f.cat.Localized(q.Lang)), nil
		}
		return wire.Catalogue(f.cat), nil
	case protocol.MethodLedgerSummary:
		if rp.Cursor != "" || rp.Limit != 0 || rp.Bucket != "" {
			return nil, rpcErr(protocol.CodeInvalidParams, "params: summary takes filters only")
		}
		rows, err := f.r.Summary(ctx, wire.Filter(rp.Filter))
		if err != nil {
			return nil, err
		}
		return protocol.SummaryResult{Apps: wire.List(rows, wire.SummaryRow)}, nil
	case protocol.MethodLedgerTimeline:
		b, ok := protocol.BucketOf(rp.Bucket)
		if !ok {
			return nil, rpcErr(protocol.CodeInvalidParams, "bucket: %q is not hour or day", rp.Bucket)
		}
		buckets, err := f.r.Timeline(ctx, wire.Filter(rp.Filter), b)
		if err != nil {
			return nil, err
		}
		return protocol.TimelineResult{BucketMS: b.Milliseconds(), Buckets: wire.List(buckets, wire.Bucket)}, nil
	case protocol.MethodLedgerQuery, protocol.MethodLedgerExport:
		def, max := protocol.QueryLimitDefault, protocol.QueryLimitMax
		if method == protocol.MethodLedgerExport {
			def, max = protocol.ExportLimitDefault, protocol.ExportLimitMax
		}
		limit, ok := protocol.PageLimit(rp.Limit, def, max)
		if !ok {
			return nil, rpcErr(protocol.CodeInvalidParams, "limit: %d is outside 1..%d", rp.Limit, max)
		}
		if method == protocol.MethodLedgerExport {
			page, err := f.r.Export(ctx, wire.Filter(rp.Filter), rp.Cursor, limit)
			return wire.Page(page), err
		}
		page, err := f.r.Query(ctx, wire.Filter(rp.Filter), rp.Cursor, limit)
		if err == nil && rp.Count && page.Next != "" {
			// As the daemon does: the total only when the page is cut.
			var n int64
			if n, err = f.r.Count(ctx, wire.Filter(rp.Filter)); err == nil {
				page.Total = &n
			}
		}
		return wire.Page(page), err
	case protocol.MethodLedgerVerify:
		rep, err := f.r.Verify(ctx)
		return wire.Verify(ledger.CheckedReport{VerifyReport: rep}), err
	case protocol.MethodGrantsList, protocol.MethodGrantsGet, protocol.MethodGrantsSet, protocol.MethodGrantsRevoke, protocol.MethodIndicatorGet:
		return nil, rpcErr(protocol.CodeUnavailable, "%s: not in a ledger file (grants and the live indicator come from a running permd)", method)
	}
	return nil, rpcErr(protocol.CodeMethodNotFound, "method %q not found", method)
}
