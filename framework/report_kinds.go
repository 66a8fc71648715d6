package framework

import (
	"fmt"
	"slices"
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
