package ledger

import (
	"context"

	"permd/ledger/store"
)

// CheckedReport is a VerifyReport together with SQLite's structural
// check of the file. The hash chain proves the rows it can read; only
// the structural check notices a damaged page that no verified row
// lives on (an index page, say), which would otherwise make some reads
// fail while verify says ok.
type CheckedReport struct {
	VerifyReport
	// Integrity lists what SQLite's quick_check found; empty when the
	// file is sound.
	Integrity []string `json:"integrity,omitempty"`
	// Error is why the chain walk itself failed on a damaged file.
	Error string `json:"error,omitempty"`
}

// CheckAndVerify runs the structural check, then Verify. On a damaged
// file the report is not ok and names the damage; a chain walk that
// fails on the damage is reported in Error rather than as an error, so
// that the caller still learns what is wrong.
func (r *Reader) CheckAndVerify(ctx context.Context) (CheckedReport, error) {
	findings, qerr := store.QuickCheck(ctx, r.db)
	if qerr != nil {
		findings = append(findings, qerr.Error())
	}
	rep, err := r.Verify(ctx)
	out := CheckedReport{VerifyReport: rep, Integrity: findings}
	if len(findings) > 0 {
		out.OK = false
		if err != nil {
			out.Error, err = err.Error(), nil
		}
	}
	return out, err
}
