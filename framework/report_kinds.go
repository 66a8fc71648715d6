package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"

	"permd/framework/protocol"
	"permd/ledger"
)

// daemonKinds are the record kinds only permd itself writes: consent it
// took (grant_change, grant_decision), what its own indicator showed
// (indicator), its own preinstall audit (preinstall_finding) and its own
// losses (overload). A reported record of one of these kinds would be
// indistinguishable from permd's own word in the record, so ledger.report
// refuses it. Kinds a reporter observes first-hand stay reportable,
// including span (uses the framework sees outside op.start, with their
// attribution tag) and anomaly (a start storm the framework detects).
var daemonKinds = []string{"grant_change", "grant_decision", "indicator", "overload", "preinstall_finding"}

// checkReportedKind refuses a reported record of a kind only permd writes.
func checkReportedKind(i int, kind string) error {
	if slices.Contains(daemonKinds, kind) {
		return InvalidParams(fmt.Sprintf("records[%d].kind", i), "%q records are written only by permd itself (%v); a report may not carry them", kind, daemonKinds)
	}
	return nil
}

// maxLostReason bounds the reason a reporter gives for its losses.
const maxLostReason = 300

// lost is ledger.lost: a reporter (the framework's client library) says
// it had to drop n records it could not hand over, for instance while
// permd was unreachable and its buffer was full. permd writes the
// overload row itself, committed before the reply, with the reporter's
// uid and role, as the daemon sees them, in the reason: the record never
// carries an overload row in a reporter's words (ledger.report refuses
// the kind), yet no loss goes unrecorded.
func (p *ledgerPart) lost(ctx context.Context, c *Call) (any, error) {
	var q protocol.LostParams
	if err := DecodeParams(c.Params, &q); err != nil {
		return nil, err
	}
	if q.Dropped == nil || *q.Dropped < 1 || *q.Dropped > math.MaxInt32 {
		return nil, InvalidParams("dropped", "want how many records were dropped, 1 to %d", math.MaxInt32)
	}
	if q.Reason == "" || len(q.Reason) > maxLostReason || !utf8.ValidString(q.Reason) {
		return nil, InvalidParams("reason", "want why they were dropped, as UTF-8 text of at most %d bytes", maxLostReason)
	}
	detail, err := json.Marshal(map[string]any{
		"dropped": *q.Dropped,
		"reason":  fmt.Sprintf("%s (reported by uid %d, role %s)", q.Reason, c.Actor.UID, c.Actor.Role),
	})
	if err != nil {
		return nil, err
	}
	rec := ledger.Record{UID: c.Actor.UID, Kind: "overload", Category: "system", Detail: detail}
	if err := p.l.Append(ctx, rec); err != nil {
		return nil, ledgerError(err)
	}
	return protocol.LostResult{Recorded: *q.Dropped}, nil
}
