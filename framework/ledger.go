package framework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sync/atomic"
	"time"

	"permd/aosp/etc"
	"permd/framework/protocol"
	"permd/framework/wire"
	"permd/grants"
	"permd/indicator"
	"permd/ledger"
	"permd/ledger/store"
)

// RulesFile is the ledger's config file: the published recording rules.
const RulesFile = "rules.json"

// ledgerPart wires the ledger capability into the service: it opens the
// ledger on the service database, which the parts after it record into
// (through l), and serves the ledger.* and rules.get methods.
type ledgerPart struct {
	id *identityPart // names the apps of records

	rules atomic.Pointer[ledger.Rules]
	l     *ledger.Ledger // set by start; the parts after it record here
}

// The ledger is every part's sink, grants' counter and the keeper of the
// indicator's uses in progress.
var (
	_ ledger.Sink           = (*ledger.Ledger)(nil)
	_ grants.Counter        = (*ledger.Ledger)(nil)
	_ indicator.UseRecorder = (*ledger.Ledger)(nil)
)

func (p *ledgerPart) name() string { return "ledger" }

// loadRules reads rules.json from the snapshot, or the embedded default
// when the config dir has none.
func loadRules(snap *Snapshot) (*ledger.Rules, error) {
	raw, ok := snap.File(RulesFile)
	if !ok {
		var err error
		if raw, err = fs.ReadFile(etc.Default(), RulesFile); err != nil {
			return nil, &ConfigError{File: RulesFile, Problem: "missing, and no embedded default: " + err.Error()}
		}
	}
	r, err := ledger.ParseRules(raw)
	if err != nil {
		return nil, configError(RulesFile, err)
	}
	return r, nil
}

func (p *ledgerPart) prepare(s *Service, snap *Snapshot) (func(), error) {
	r, err := loadRules(snap)
	if err != nil {
		return nil, err
	}
	if err := p.checkPublished(s, r); err != nil {
		return nil, err
	}
	return func() {
		p.rules.Store(r)
		if p.l != nil {
			p.l.SetRules(r)
		}
	}, nil
}

func (p *ledgerPart) start(ctx context.Context, s *Service) error {
	// Without a resolver the records name no packages rather than
	// invent any.
	var pkgs func(uid int) []string
	if r := p.id.resolver; r != nil {
		pkgs = r.Packages
	}
	l, err := ledger.Open(ctx, s.db, ledger.Options{
		Rules:    p.rules.Load(),
		Packages: pkgs,
		Now:      s.Now,
		Logger:   s.Logger().With("part", "ledger"),
	})
	if err != nil {
		return fmt.Errorf("open the record in %s: %w (if the file is damaged: %s)", s.storage.path, err, store.Recovery)
	}
	p.l = l
	if n, why := s.openUnrecorded(); n > 0 {
		s.log.Warn("events an earlier run could not record are counted in an overload row", "dropped", n, "reason", why)
		l.Lost(n, "before a restart: "+why)
	}
	// Once a commit wrote the count in an overload row, clear it on disk
	// at once, so that a crash now does not count the loss twice.
	l.OnCommit(func() { s.saveUnrecorded(l.Unrecorded()) })
	return nil
}

func (p *ledgerPart) stop(s *Service) {
	if p.l != nil {
		p.l.Close()
		if n, why := p.l.Unrecorded(); n > 0 {
			s.log.Error("events not recorded at shutdown; the count is kept for the next run", "dropped", n, "reason", why)
		}
		s.saveUnrecorded(p.l.Unrecorded())
		s.closeUnrecorded()
	}
}

func (p *ledgerPart) health() map[string]any {
	if p.l == nil {
		return map[string]any{"started": false}
	}
	st := p.l.Stats()
	return map[string]any{
		"queue_depth": st.QueueDepth, "queue_capacity": st.QueueCap, "dropped": st.Dropped,
		"committed": st.Committed, "rows_written": st.Rows, "commits": st.Commits,
		"open_rows": st.Open, "open_rows_bytes": st.OpenBytes, "sealed_early": st.SealedEarly,
		"pruned_rows": st.Pruned, "rules_version": st.Rules,
		"last_error": st.LastError,
	}
}

func (p *ledgerPart) methods(s *Service) []Method {
	readers := append(append([]Role{}, Readers...), RoleApp)
	return []Method{
		{Name: protocol.MethodLedgerReport, Roles: []Role{RoleFramework, RoleRoot}, Handler: p.report},
		{Name: protocol.MethodLedgerLost, Roles: []Role{RoleFramework, RoleRoot}, Handler: p.lost},
		{Name: protocol.MethodLedgerQuery, Roles: readers, Handler: p.query},
		{Name: protocol.MethodLedgerSummary, Roles: readers, Handler: p.summary},
		{Name: protocol.MethodLedgerTimeline, Roles: readers, Handler: p.timeline},
		{Name: protocol.MethodLedgerExport, Roles: readers, Handler: p.export},
		{Name: protocol.MethodLedgerVerify, Roles: Readers, Handler: p.verify(s)},
		{Name: protocol.MethodRulesGet, Roles: AllRoles, Handler: p.rulesGet},
	}
}

// ReportRecord is one record of ledger.report on the wire.
type ReportRecord = protocol.ReportRecord

func (p *ledgerPart) report(ctx context.Context, c *Call) (any, error) {
	var req protocol.ReportParams
	if recs, ok := fastReport(c.Params); ok {
		req.Records = recs
	} else if err := DecodeParams(c.Params, &req); err != nil {
		return nil, err
	}
	recs := make([]ledger.Record, len(req.Records))
	for i, r := range req.Records {
		if r.UID == nil {
			return nil, InvalidParams(fmt.Sprintf("records[%d].uid", i), "missing")
		}
		if err := checkReportedKind(i, r.Kind); err != nil {
			return nil, err
		}
		recs[i] = ledger.Record{UID: *r.UID, Kind: r.Kind, Category: r.Category, Op: r.Op, Result: r.Result, AppState: r.AppState, Detail: r.Detail}
		if r.TimeMS != 0 {
			recs[i].Time = time.UnixMilli(r.TimeMS)
		}
	}
	if err := p.l.Append(ctx, recs...); err != nil {
		return nil, ledgerError(err)
	}
	return protocol.ReportResult{Committed: len(recs)}, nil
}

func ledgerError(err error) error {
	var ve *ledger.ValidationError
	var ce *ledger.CursorError
	switch {
	case errors.As(err, &ve) && ve.Index < 0:
		return InvalidParams(ve.Field, "%s", ve.Problem)
	case errors.As(err, &ve):
		return InvalidParams(fmt.Sprintf("records[%d].%s", ve.Index, reportWireField(ve.Field)), "%s", ve.Problem)
	case errors.As(err, &ce):
		return InvalidParams("cursor", "not a cursor this daemon returned")
	case errors.Is(err, ledger.ErrClosed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return Errorf(CodeUnavailable, "ledger is shutting down or the request ended before the commit")
	}
	if e := storageRPCError(err); e != nil {
		return e
	}
	return err
}

// reportWireField names a ledger.Record field as ReportRecord carries it
// on the wire: the ledger validates a time.Time, clients send time_ms.
func reportWireField(field string) string {
	if field == "time" {
		return "time_ms"
	}
	return field
}

// readParams are the filters shared by the read methods.
type readParams = protocol.ReadParams

// decodeRead decodes filters and, for an app, forces the uid filter to
// its own uid: an app reads only its own records.
func decodeRead(c *Call, raw json.RawMessage) (readParams, error) {
	var rp readParams
	if err := DecodeParams(raw, &rp); err != nil {
		return rp, err
	}
	if c.Actor.Role == RoleApp {
		if rp.UID != nil && *rp.UID != c.Actor.UID {
			return rp, Errorf(CodePermissionDenied, "an app may read only its own records (uid %d)", c.Actor.UID)
		}
		uid := c.Actor.UID
		rp.UID = &uid
	}
	if f := rp.NegativeTime(); f != "" {
		return rp, InvalidParams(f, "negative time")
	}
	return rp, nil
}

func limitOf(rp readParams, def, max int) (int, error) {
	n, ok := protocol.PageLimit(rp.Limit, def, max)
	if !ok {
		return 0, InvalidParams("limit", "%d is outside 1..%d", rp.Limit, max)
	}
	return n, nil
}

func (p *ledgerPart) query(ctx context.Context, c *Call) (any, error) {
	rp, err := decodeRead(c, c.Params)
	if err != nil {
		return nil, err
	}
	limit, err := limitOf(rp, protocol.QueryLimitDefault, protocol.QueryLimitMax)
	if err != nil {
		return nil, err
	}
	f := wire.Filter(rp.Filter)
	page, err := p.l.Query(ctx, f, rp.Cursor, limit)
	if err != nil {
		return nil, ledgerError(err)
	}
	if rp.Count && page.Next != "" {
		n, err := p.l.Count(ctx, f)
		if err != nil {
			return nil, ledgerError(err)
		}
		page.Total = &n
	}
	return wire.Page(page), nil
}

func (p *ledgerPart) export(ctx context.Context, c *Call) (any, error) {
	rp, err := decodeRead(c, c.Params)
	if err != nil {
		return nil, err
	}
	limit, err := limitOf(rp, protocol.ExportLimitDefault, protocol.ExportLimitMax)
	if err != nil {
		return nil, err
	}
	page, err := p.l.Export(ctx, wire.Filter(rp.Filter), rp.Cursor, limit)
	if err != nil {
		return nil, ledgerError(err)
	}
	return wire.Page(page), nil
}

func (p *ledgerPart) summary(ctx context.Context, c *Call) (any, error) {
	rp, err := decodeRead(c, c.Params)
	if err != nil {
		return nil, err
	}
	if rp.Cursor != "" || rp.Limit != 0 || rp.Bucket != "" {
		return nil, InvalidParams("params", "summary takes filters only")
	}
	rows, err := p.l.Summary(ctx, wire.Filter(rp.Filter))
	if err != nil {
		return nil, ledgerError(err)
	}
	return protocol.SummaryResult{Apps: wire.List(rows, wire.SummaryRow)}, nil
}

func (p *ledgerPart) timeline(ctx context.Context, c *Call) (any, error) {
	rp, err := decodeRead(c, c.Params)
	if err != nil {
		return nil, err
	}
	b, ok := protocol.BucketOf(rp.Bucket)
	if !ok {
		return nil, InvalidParams("bucket", "%q is not hour or day", rp.Bucket)
	}
	buckets, err := p.l.Timeline(ctx, wire.Filter(rp.Filter), b)
	if err != nil {
		return nil, ledgerError(err)
	}
	return protocol.TimelineResult{BucketMS: b.Milliseconds(), Buckets: wire.List(buckets, wire.Bucket)}, nil
}

func (p *ledgerPart) verify(s *Service) Handler {
	return func(ctx context.Context, c *Call) (any, error) { return p.verifyWith(ctx, s, c) }
}

func (p *ledgerPart) verifyWith(ctx context.Context, s *Service, c *Call) (any, error) {
	if err := DecodeParams(c.Params, &protocol.NoParams{}); err != nil {
		return nil, err
	}
	rep, err := p.l.CheckAndVerify(ctx)
	if err != nil {
		return nil, err
	}
	s.noteIntegrity(rep.Integrity)
	return wire.Verify(rep), nil
}

func (p *ledgerPart) rulesGet(ctx context.Context, c *Call) (any, error) {
	var req protocol.RulesParams
	if err := DecodeParams(c.Params, &req); err != nil {
		return nil, err
	}
	cur := p.l.Rules()
	if req.Version == 0 {
		return protocol.Rules(cur.Raw()), nil
	}
	// What records of version N were made under is what the database
	// stored for N; the rules in force serve only before their first record.
	raw, err := p.l.RulesVersion(ctx, req.Version)
	if err != nil {
		return nil, err
	}
	if raw == nil && req.Version == cur.Version {
		raw = cur.Raw()
	}
	if raw == nil {
		return nil, NotFound("rules version %d was never used on this device", req.Version)
	}
	return protocol.Rules(raw), nil
}
