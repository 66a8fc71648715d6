package privacy

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"permd/framework/client"
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

// Codes as in docs/protocol.md, so the pages handle both sources alike.
const (
	codeInvalidParams  = -32602
	codeMethodNotFound = -32601
	codeNotFound       = -32002
	codeUnavailable    = -32004
)

func rpcErr(code int, format string, args ...any) *client.RPCError {
	return &client.RPCError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// readParams mirrors the daemon's: the filters and paging of the read
// methods. Unknown fields are refused, as the daemon does.
type readParams struct {
	ledger.Filter
	Cursor string `json:"cursor"`
	Limit  int    `json:"limit"`
	Bucket string `json:"bucket"`
}

func decode(params json.RawMessage, v any) error {
	switch string(params) {
	case "", "null", "{}":
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return rpcErr(codeInvalidParams, "params: %v", err)
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
			err = rpcErr(codeInvalidParams, "cursor: not a cursor this file returned")
		default:
			err = rpcErr(-32603, "read %s: %v", f.Path, err)
		}
		return nil, err
	}
	if raw, ok := v.(json.RawMessage); ok {
		return raw, nil
	}
	return json.Marshal(v)
}

func (f *File) call(ctx context.Context, method string, params json.RawMessage) (any, error) {
	var rp readParams
	switch method {
	case "ledger.summary", "ledger.timeline", "ledger.query", "ledger.export":
		if err := decode(params, &rp); err != nil {
			return nil, err
		}
	}
	switch method {
	case "sys.health":
		// source tells the pages that nothing here is live or editable.
		return map[string]any{"status": "ok", "source": "db", "file": f.Path, "you": map[string]any{"role": "read-only file"}}, nil
	case "rules.get":
		var q struct {
			Version int `json:"version"`
		}
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
			return nil, rpcErr(codeNotFound, "rules version %d is not in this file", q.Version)
		}
		return json.RawMessage(raw), nil
	case "grants.catalogue":
		var q struct {
			Lang string `json:"lang"`
		}
		if err := decode(params, &q); err != nil {
			return nil, err
		}
		if q.Lang != "" {
			return f.cat.Localized(q.Lang), nil
		}
		return f.cat, nil
	case "ledger.summary":
		if rp.Cursor != "" || rp.Limit != 0 || rp.Bucket != "" {
			return nil, rpcErr(codeInvalidParams, "params: summary takes filters only")
		}
		rows, err := f.r.Summary(ctx, rp.Filter)
		if err != nil {
			return nil, err
		}
		return map[string]any{"apps": rows}, nil
	case "ledger.timeline":
		b := time.Hour
		switch rp.Bucket {
		case "", "hour":
		case "day":
			b = 24 * time.Hour
		default:
			return nil, rpcErr(codeInvalidParams, "bucket: %q is not hour or day", rp.Bucket)
		}
		buckets, err := f.r.Timeline(ctx, rp.Filter, b)
		if err != nil {
			return nil, err
		}
		return map[string]any{"bucket_ms": b.Milliseconds(), "buckets": buckets}, nil
	case "ledger.query", "ledger.export":
		def, max := 100, 1000
		if method == "ledger.export" {
			def, max = 1000, 5000
		}
		limit := rp.Limit
		switch {
		case limit == 0:
			limit = def
		case limit < 0 || limit > max:
			return nil, rpcErr(codeInvalidParams, "limit: %d is outside 1..%d", limit, max)
		}
		if method == "ledger.export" {
			return f.r.Export(ctx, rp.Filter, rp.Cursor, limit)
		}
		return f.r.Query(ctx, rp.Filter, rp.Cursor, limit)
	case "ledger.verify":
		return f.r.Verify(ctx)
	case "grants.list", "grants.get", "grants.set", "grants.revoke", "indicator.get":
		return nil, rpcErr(codeUnavailable, "%s: not in a ledger file (grants and the live indicator come from a running permd)", method)
	}
	return nil, rpcErr(codeMethodNotFound, "method %q not found", method)
}
