package framework

import (
	"permd/aosp/preinstall"
	"permd/framework/protocol"
	"permd/grants"
	"permd/ledger"
)

// The domain packages (grants, ledger, preinstall) know nothing of the
// wire; these functions copy their values into the protocol types the
// handlers return. wire_test.go holds each pair to the same JSON members, so a
// field added on one side and not the other fails a test instead of
// silently vanishing from replies.

// wireList converts a slice element by element, keeping nil as nil:
// encoding/json writes null for nil and [] for empty, and clients see
// the difference.
func wireList[A, B any](in []A, f func(A) B) []B {
	if in == nil {
		return nil
	}
	out := make([]B, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

func wireGrant(g grants.Grant) protocol.Grant {
	return protocol.Grant{
		User: g.User, Package: g.Package, Category: g.Category, UID: g.UID, Decision: g.Decision,
		Time: protocol.TimeRule(g.Time), Frequency: (*protocol.Frequency)(g.Frequency), Precision: protocol.Precision(g.Precision),
		Set: g.Set, By: g.By, Version: g.Version,
	}
}

func wireGrantPtr(g *grants.Grant) *protocol.Grant {
	if g == nil {
		return nil
	}
	w := wireGrant(*g)
	return &w
}

func wireDecision(d grants.Decision) protocol.Decision {
	return protocol.Decision{
		Allowed: d.Allowed, Result: d.Result, Reason: d.Reason, Package: d.Package, Category: d.Category,
		Level: d.Level, Effect: d.Effect, RadiusM: d.RadiusM, Scope: d.Scope, Items: d.Items,
		Remaining: d.Remaining, AppState: d.AppState,
	}
}

func wireRequest(r grants.RequestResult) protocol.RequestResult {
	out := protocol.RequestResult{Status: r.Status, Grant: wireGrantPtr(r.Grant), RequestID: r.RequestID}
	if d := r.Dialog; d != nil {
		out.Dialog = &protocol.Dialog{
			Lang: d.Lang, Category: d.Category, Icon: d.Icon, Title: d.Title, Risk: d.Risk,
			TimeModes: wireList(d.TimeModes, wireOption), Durations: d.Durations, Background: d.Background,
			Levels: wireList(d.Levels, wireOption), Frequency: d.Frequency, Preselected: wireGrant(d.Preselected),
		}
	}
	return out
}

func wireOption(o grants.Option) protocol.Option { return protocol.Option(o) }

func wireHistory(h grants.HistoryEntry) protocol.HistoryEntry {
	return protocol.HistoryEntry{At: h.At, Action: h.Action, By: h.By, Grant: wireGrantPtr(h.Grant)}
}

func wireLevel(l grants.Level) protocol.Level {
	return protocol.Level{
		ID: l.ID, Effect: l.Effect, RadiusM: l.RadiusM, Custom: l.Custom, MinRadiusM: l.MinRadiusM,
		MaxRadiusM: l.MaxRadiusM, Scope: l.Scope, Label: protocol.Text(l.Label),
	}
}

func wireCatalogue(c *grants.Catalogue) protocol.Catalogue {
	out := protocol.Catalogue{
		Version: c.Version, Durations: c.Durations, FrequencyWindows: c.FrequencyWindows,
		Titles: protocol.Text(c.Titles),
		Categories: wireList(c.Categories, func(k grants.Category) protocol.Category {
			return protocol.Category{
				ID: k.ID, Code: k.Code, Icon: k.Icon, Label: protocol.Text(k.Label), Risk: protocol.Text(k.Risk),
				Permissions: k.Permissions, AppOps: k.AppOps, Dimensions: k.Dimensions, TimeModes: k.TimeModes,
				Background: k.Background, Levels: wireList(k.Levels, wireLevel), DefaultLevel: k.DefaultLevel,
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

func wireFilter(f protocol.Filter) ledger.Filter { return ledger.Filter(f) }

func wireEvent(e ledger.Event) protocol.Event { return protocol.Event(e) }

func wirePage(p ledger.Page) protocol.Page {
	return protocol.Page{Events: wireList(p.Events, wireEvent), Next: p.Next, Total: p.Total}
}

func wireSummaryRow(r ledger.SummaryRow) protocol.SummaryRow { return protocol.SummaryRow(r) }

func wireBucket(b ledger.Bucket) protocol.Bucket { return protocol.Bucket(b) }

func wireBadRow(b ledger.BadRow) protocol.BadRow { return protocol.BadRow(b) }

func wireVerify(r ledger.CheckedReport) protocol.VerifyResult {
	out := protocol.VerifyResult{
		OK: r.OK, Rows: r.Rows, Sealed: r.Sealed, Open: r.Open, Pruned: r.Pruned, Chains: r.Chains,
		Problems: wireList(r.Problems, wireBadRow), Integrity: r.Integrity, Error: r.Error,
	}
	if r.FirstBad != nil {
		b := wireBadRow(*r.FirstBad)
		out.FirstBad = &b
	}
	return out
}

func wireFinding(f preinstall.Finding) protocol.Finding { return protocol.Finding(f) }

func wirePreinstall(st PreinstallStatus) protocol.PreinstallStatus {
	return protocol.PreinstallStatus{
		State: st.State, ScannedAt: st.ScannedAt, DurationMS: st.DurationMS, Scans: st.Scans, Roots: st.Roots,
		Registry: protocol.PreinstallRegistry(st.Registry), Summary: protocol.PreinstallSummary(st.Summary),
		Checks: st.Checks, Findings: wireList(st.Findings, wireFinding),
	}
}
