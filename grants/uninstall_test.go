package grants

import (
	"context"
	"testing"
)

// TestGrantServesOnlyItsInstall: a grant made for a uid is not served to
// the same package under another uid (a reinstall), even before the
// package list is reconciled; Reconcile then revokes it with the reason,
// and Removed revokes one user's grants only.
func TestGrantServesOnlyItsInstall(t *testing.T) {
	f := newFixture(t)
	f.set(Grant{Category: "camera", Time: TimeRule{Mode: ModeWhileInUse}})
	f.set(Grant{Category: "camera", UID: 1010123, User: 10, Time: TimeRule{Mode: ModeWhileInUse}})
	if d := f.eng.Check(Query{UID: 10300, Packages: []string{appPkg}, Category: "camera"}); d.Allowed || d.Reason != "no_grant" {
		t.Fatalf("check by the reinstall (uid 10300): %+v, want no_grant", d)
	}
	if r, err := f.eng.Request(10300, appPkg, "camera", ""); err != nil || r.Status != StatusAsk {
		t.Fatalf("request by the reinstall: %+v %v, want ask", r, err)
	}
	if d := f.eng.Check(Query{UID: appUID, Packages: []string{appPkg}, Category: "camera"}); !d.Allowed {
		t.Fatalf("check by the original uid: %+v, want allowed", d)
	}
	ch := f.eng.Reconcile(context.Background(), func(pkg string, user int) (int, bool) { return user*100000 + 300, true }, true)
	if len(ch) != 2 || ch[0].Reason != ReasonUIDChanged || ch[0].By != ByPackageManager || f.eng.Len() != 0 {
		t.Fatalf("reconcile after a reinstall: %+v, %d left; want both revoked as uid_changed", ch, f.eng.Len())
	}
	f.set(Grant{Category: "camera", Time: TimeRule{Mode: ModeWhileInUse}})
	f.set(Grant{Category: "camera", UID: 1010123, User: 10, Time: TimeRule{Mode: ModeWhileInUse}})
	none := func(string, int) (int, bool) { return 0, false }
	if ch := f.eng.Reconcile(context.Background(), none, false); len(ch) != 0 || f.eng.Len() != 2 {
		t.Fatalf("reconcile with an incomplete list: %+v; want nothing revoked for packages it does not show", ch)
	}
	if ch := f.eng.Removed(context.Background(), 10, appPkg); len(ch) != 1 || ch[0].Grant.User != 10 || ch[0].Reason != ReasonUninstalled || f.eng.Len() != 1 {
		t.Fatalf("removed for user 10: %+v, %d left; want user 10's grant revoked as uninstalled", ch, f.eng.Len())
	}
}
