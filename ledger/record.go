// Package ledger is permd's truthful record of Art. 32: permission use,
// background starts, sensitive reads, indicator spans, grant changes,
// preinstall findings. Rows live in SQLite, are hash-chained, coalesced
// under the published recording rules, and read back through queries,
// summaries, timelines and exports.
package ledger

import (
	"context"
	"encoding/json"
	"time"
)

// Record is one observed event as a producer hands it to the ledger. The
// ledger resolves packages from UID, derives the Android user id, stamps
// the rules version, coalesces identical events and chains the hash.
//
// Kind, Category, Result and AppState take the codes defined in the
// published recording rules (aosp/etc/permd/rules.json); a record whose
// codes the rules do not name is rejected, never stored half-way.
type Record struct {
	Time     time.Time       // when it was observed; zero means now
	UID      int             // the app's uid (the attributed app, not a proxy)
	Kind     string          // e.g. "access", "span", "self_start", "clipboard_read"
	Category string          // e.g. "location", "camera", "clipboard", "device_id"
	Op       string          // Android permission or app-op name, or "" if none
	Result   string          // e.g. "allowed", "denied", "reduced", "decoy", "rate_limited"
	AppState string          // "foreground", "visible", "background", "not_running", or ""
	Detail   json.RawMessage // small JSON object; nil for none
}

// Sink is how producers hand records to the ledger.
type Sink interface {
	// Append returns after the records are committed: an acknowledged
	// record is durable. It blocks (backpressure) while the writer's queue
	// is full, until ctx ends.
	Append(ctx context.Context, recs ...Record) error
	// Enqueue hands records over without waiting for the commit; they are
	// committed within the writer's bounded window (stated in the published
	// rules). It never drops silently: if the queue overflows, the number
	// dropped and why is itself recorded.
	Enqueue(recs ...Record)
}
