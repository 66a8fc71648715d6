package ledger

import (
	"fmt"
	"strings"
	"testing"

	"permd/ledger/store"
)

// TestVerifyHeadMessageSaysWhatIsWrong: a chain head whose hash was
// altered (what a second writer sealing rows behind the daemon's back
// leaves) is reported in words, never as "ends at row N, but its head is
// row N".
func TestVerifyHeadMessageSaysWhatIsWrong(t *testing.T) {
	path := copyFile(t, sealedLedger(t))
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE ledger_chain SET head_hash = zeroblob(32) WHERE kind = (SELECT MIN(kind) FROM ledger_chain)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	rep := verifyFile(t, path)
	if rep.OK || rep.FirstBad == nil {
		t.Fatalf("altered head hash verified: %+v", rep)
	}
	p := rep.FirstBad.Problem
	self := fmt.Sprintf("row %d, but its recorded head is row %d", rep.FirstBad.Seq, rep.FirstBad.Seq)
	if strings.Contains(p, self) || !strings.Contains(p, "hash differs") {
		t.Errorf("problem %q: want it to say the head hash differs, not name one row twice", p)
	}
}
