package main

import (
	"strings"
	"testing"

	"permd/framework/frameworktest"
)

// TestStatusWithoutDetail: a role that may not see the daemon-wide
// figures (here systemui) still gets permctl status, from the summary.
func TestStatusWithoutDetail(t *testing.T) {
	d := frameworktest.Start(t, frameworktest.Options{Config: map[string]string{
		"permd.json": `{"version":1,"roles":[{"uid":0,"role":"systemui"}]}`,
	}})
	code, out, errs := permctl(t, d.Socket, "status")
	if code != exitOK || !strings.Contains(out, "role systemui") || strings.Contains(out, "grants") {
		t.Fatalf("status as systemui: code %d\n%s%s\nwant the summary without the parts' figures", code, out, errs)
	}
}
