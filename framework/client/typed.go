package client

import (
	"context"

	"permd/framework/protocol"
)

// Invoke calls method with params and decodes its result into an R: the
// typed form of Call for any method, with package protocol's types.
func Invoke[R any](ctx context.Context, c *Client, method string, params any) (R, error) {
	var r R
	err := c.Call(ctx, method, params, &r)
	return r, err
}

// Version calls sys.version.
func (c *Client) Version(ctx context.Context) (protocol.VersionInfo, error) {
	return Invoke[protocol.VersionInfo](ctx, c, protocol.MethodSysVersion, nil)
}

// Health calls sys.health; detail asks for per-method and per-part
// figures, which only roles reading every app's records may see.
func (c *Client) Health(ctx context.Context, detail bool) (protocol.Health, error) {
	var p any
	if detail {
		p = protocol.HealthParams{Detail: true}
	}
	return Invoke[protocol.Health](ctx, c, protocol.MethodSysHealth, p)
}

// Check calls perm.check.
func (c *Client) Check(ctx context.Context, p protocol.CheckParams) (protocol.Decision, error) {
	return Invoke[protocol.Decision](ctx, c, protocol.MethodPermCheck, p)
}

// Report calls ledger.report: the records are committed when it returns.
func (c *Client) Report(ctx context.Context, recs ...protocol.ReportRecord) (protocol.ReportResult, error) {
	return Invoke[protocol.ReportResult](ctx, c, protocol.MethodLedgerReport, protocol.ReportParams{Records: recs})
}

// Query calls ledger.query: one page of rows, newest first.
func (c *Client) Query(ctx context.Context, p protocol.QueryParams) (protocol.Page, error) {
	return Invoke[protocol.Page](ctx, c, protocol.MethodLedgerQuery, p)
}

// Export calls ledger.export: one page of rows in write order, with hashes.
func (c *Client) Export(ctx context.Context, p protocol.ExportParams) (protocol.Page, error) {
	return Invoke[protocol.Page](ctx, c, protocol.MethodLedgerExport, p)
}

// Summary calls ledger.summary.
func (c *Client) Summary(ctx context.Context, p protocol.SummaryParams) (protocol.SummaryResult, error) {
	return Invoke[protocol.SummaryResult](ctx, c, protocol.MethodLedgerSummary, p)
}

// Timeline calls ledger.timeline.
func (c *Client) Timeline(ctx context.Context, p protocol.TimelineParams) (protocol.TimelineResult, error) {
	return Invoke[protocol.TimelineResult](ctx, c, protocol.MethodLedgerTimeline, p)
}

// Verify calls ledger.verify.
func (c *Client) Verify(ctx context.Context) (protocol.VerifyResult, error) {
	return Invoke[protocol.VerifyResult](ctx, c, protocol.MethodLedgerVerify, nil)
}
