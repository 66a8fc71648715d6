// Package wire copies values of the domain packages (grants, ledger)
// into the protocol types the daemon sends: the domain
// packages know nothing of the wire, and package protocol imports only
// the standard library, so the one place that knows both is here. The
// daemon's handlers and the Privacy Center's offline file source use it,
// so both answer in the same shape.
package wire

import (
	"permd/framework/protocol"
	"permd/grants"
	"permd/ledger"
)

// framework/wire_test.go holds each pair of types to the same JSON
// members, so a field added on one side and not the other fails a test
// instead of silently vanishing from replies.

// List converts a slice element by element, keeping nil as nil:
// encoding/json writes null for nil and [] for empty, and clients see
// the difference.
func List[A, B any](in []A, f func(A) B) []B {
	if in == nil {
		return nil
	}
	out := make([]B, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// Grant is g on the wire.
func Grant(g grants.Grant) protocol.Grant {
	return protocol.Grant{
		User: g.User, Package: g.Package, Category: g.Category, UID: g.UID, Decision: g.Decision,
		Time: protocol.TimeRule(g.Time), Frequency: (*protocol.Frequency)(g.Frequency), Precision: protocol.Precision(g.Precision),
		Set: g.Set, By: g.By, Version: g.Version,
	}
}

// GrantPtr is g on the wire; nil stays nil.
func GrantPtr(g *grants.Grant) *protocol.Grant {
	if g == nil {
		return nil
	}
	w := Grant(*g)
	return &w
}

// Decision is perm.check's answer on the wire.
func Decision(d grants.Decision) protocol.Decision {
	return protocol.Decision{
		Allowed: d.Allowed, Result: d.Result, Reason: d.Reason, Package: d.Package, Category: d.Category,
		Level: d.Level, Effect: d.Effect, RadiusM: d.RadiusM, Scope: d.Scope, Items: d.Items,
		Remaining: d.Remaining, AppState: d.AppState,
	}
}

// Request is perm.request's answer on the wire.
func Request(r grants.RequestResult) protocol.RequestResult {
	out := protocol.RequestResult{Status: r.Status, Grant: GrantPtr(r.Grant), RequestID: r.RequestID}
	if d := r.Dialog; d != nil {
		out.Dialog = &protocol.Dialog{
			Lang: d.Lang, Category: d.Category, Icon: d.Icon, Title: d.Title, Risk: d.Risk,
			TimeModes: List(d.TimeModes, option), Durations: d.Durations, Background: d.Background,
			Levels: List(d.Levels, option), Frequency: d.Frequency, Preselected: Grant(d.Preselected),
		}
	}
	return out
}

func option(o grants.Option) protocol.Option { return protocol.Option(o) }

// History is one grant history entry on the wire.
func History(h grants.HistoryEntry) protocol.HistoryEntry {
	return protocol.HistoryEntry{At: h.At, Action: h.Action, By: h.By, Grant: GrantPtr(h.Grant)}
}

// Level is a precision level on the wire.
func Level(l grants.Level) protocol.Level {
	return protocol.Level{
		ID: l.ID, Effect: l.Effect, RadiusM: l.RadiusM, Custom: l.Custom, MinRadiusM: l.MinRadiusM,
		MaxRadiusM: l.MaxRadiusM, Scope: l.Scope, Label: protocol.Text(l.Label),
	}
}

// Catalogue is the category catalogue on the wire.
func Catalogue(c *grants.Catalogue) protocol.Catalogue {
	out := protocol.Catalogue{
		Version: c.Version, Durations: c.Durations, FrequencyWindows: c.FrequencyWindows,
		Titles: protocol.Text(c.Titles),
		Categories: List(c.Categories, func(k grants.Category) protocol.Category {
			return protocol.Category{
				ID: k.ID, Code: k.Code, Icon: k.Icon, Label: protocol.Text(k.Label), Risk: protocol.Text(k.Risk),
				Permissions: k.Permissions, AppOps: k.AppOps, Dimensions: k.Dimensions, TimeModes: k.TimeModes,
				Background: k.Background, Levels: List(k.Levels, Level), DefaultLevel: k.DefaultLevel,
			}
		}),
	}
	if c.TimeLabels != nil {
		out.TimeLabels = make(map[string]protocol.Text, len(c.TimeLabels))
		for k, t := range c.TimeLabels {
			out.TimeLabels[k] = protocol.Text(t)
		}
	}
	return out
}

// Filter is the wire's ledger filter as the ledger takes it.
func Filter(f protocol.Filter) ledger.Filter { return ledger.Filter(f) }

// Event is a ledger row on the wire.
func Event(e ledger.Event) protocol.Event { return protocol.Event(e) }

// Page is a page of ledger rows on the wire.
func Page(p ledger.Page) protocol.Page {
	return protocol.Page{Events: List(p.Events, Event), Next: p.Next, Total: p.Total}
}

// SummaryRow is one ledger.summary row on the wire.
func SummaryRow(r ledger.SummaryRow) protocol.SummaryRow { return protocol.SummaryRow(r) }

// Bucket is one ledger.timeline bucket on the wire.
func Bucket(b ledger.Bucket) protocol.Bucket { return protocol.Bucket(b) }

func badRow(b ledger.BadRow) protocol.BadRow { return protocol.BadRow(b) }

// Verify is ledger.verify's report on the wire.
func Verify(r ledger.CheckedReport) protocol.VerifyResult {
	out := protocol.VerifyResult{
		OK: r.OK, Rows: r.Rows, Sealed: r.Sealed, Open: r.Open, Pruned: r.Pruned, Chains: r.Chains,
		Problems: List(r.Problems, badRow), Integrity: r.Integrity, Error: r.Error,
	}
	if r.FirstBad != nil {
		b := badRow(*r.FirstBad)
		out.FirstBad = &b
	}
	return out
}
