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
	// The digest over the chain records notices the change first; the
	// head itself must be reported too, in words.
	said := false
	for _, b := range rep.Problems {
		self := fmt.Sprintf("row %d, but its recorded head is row %d", b.Seq, b.Seq)
		if strings.Contains(b.Problem, self) {
			t.Errorf("problem %q names one row twice", b.Problem)
		}
		said = said || strings.Contains(b.Problem, "hash differs")
	}
	if !said {
		t.Errorf("problems %+v: want one to say the head hash differs", rep.Problems)
	}
}
