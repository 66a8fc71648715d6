package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"permd/framework/client"
	"permd/framework/frameworktest"
	"permd/framework/protocol"
)

// TestResultsDecodeStrictlyIntoProtocolTypes calls a real daemon and
// decodes each reply into the result type package protocol registers for
// the method, refusing unknown fields: a member the daemon sends that the
// protocol type lacks (and so the contract and every typed client miss)
// fails here.
func TestResultsDecodeStrictlyIntoProtocolTypes(t *testing.T) {
	d := frameworktest.Start(t, frameworktest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := d.Dial(t)

	uid := 10123
	started, err := client.Invoke[protocol.OpStartResult](ctx, c, protocol.MethodOpStart, protocol.OpStartParams{Resource: "camera", UID: &uid, Package: "com.example.maps", Op: "android:camera"})
	if err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		method string
		params any
	}{
		{protocol.MethodSysVersion, nil},
		{protocol.MethodSysHealth, protocol.HealthParams{Detail: true}},
		{protocol.MethodLedgerReport, protocol.ReportParams{Records: []protocol.ReportRecord{{UID: &uid, Kind: "clipboard_read", Category: "clipboard", Result: "allowed", AppState: "foreground"}}}},
		{protocol.MethodLedgerLost, protocol.LostParams{Dropped: new(int64(2)), Reason: "test buffer full"}},
		{protocol.MethodGrantsSet, protocol.GrantParams{UID: &uid, Package: "com.example.maps", Category: "location", Time: protocol.TimeRule{Mode: "while_in_use"}, Precision: protocol.Precision{Level: "approx_3km"}}},
		{protocol.MethodGrantsGet, protocol.GrantsGetParams{GrantKey: protocol.GrantKey{Package: "com.example.maps", Category: "location"}}},
		{protocol.MethodGrantsList, nil},
		{protocol.MethodGrantsCatalogue, protocol.CatalogueParams{Lang: "en"}},
		{protocol.MethodPermRequest, protocol.RequestParams{UID: &uid, Package: "com.example.maps", Category: "camera"}},
		{protocol.MethodPermCheck, protocol.CheckParams{UID: &uid, Package: "com.example.maps", Category: "location", State: "foreground"}},
		{protocol.MethodLocFudge, protocol.FudgeParams{UID: &uid, Package: "com.example.maps", Lat: new(31.2304), Lon: new(121.4737), AccuracyM: 5}},
		{protocol.MethodLocOffset, protocol.OffsetParams{User: new(0)}},
		{protocol.MethodAppState, protocol.AppStateParams{UID: &uid, State: "background"}},
		{protocol.MethodTimeZone, protocol.TimeZoneParams{Zone: new("Asia/Shanghai")}},
		{protocol.MethodPolicySubscribe, nil},
		{protocol.MethodIndicatorGet, nil},
		{protocol.MethodIndicatorSubscribe, nil},
		{protocol.MethodOpHeartbeat, protocol.OpHeartbeatParams{Uses: []uint64{started.Use}}},
		{protocol.MethodOpFinish, protocol.OpFinishParams{Use: &started.Use}},
		{protocol.MethodProcDied, protocol.ProcDiedParams{UID: &uid}},
		{protocol.MethodLedgerQuery, protocol.QueryParams{Limit: 1, Count: true}},
		{protocol.MethodLedgerSummary, nil},
		{protocol.MethodLedgerTimeline, protocol.TimelineParams{Bucket: "day"}},
		{protocol.MethodLedgerExport, protocol.ExportParams{Limit: 2}},
		{protocol.MethodLedgerVerify, nil},
		{protocol.MethodRulesGet, nil},
		{protocol.MethodGrantsRevoke, protocol.GrantKey{Package: "com.example.maps", Category: "location"}},
		{protocol.MethodAppRemoved, protocol.AppRemovedParams{UID: &uid, Package: "com.example.maps"}},
		{protocol.MethodProcReport, protocol.ProcReportParams{UID: &uid, Reason: "broadcast", Caller: "com.example.caller"}},
	}
	for _, tc := range calls {
		sp, ok := protocol.Lookup(tc.method)
		if !ok {
			t.Fatalf("%s: no spec", tc.method)
		}
		var raw json.RawMessage
		if err := c.Call(ctx, tc.method, tc.params, &raw); err != nil {
			t.Errorf("%s: %v", tc.method, err)
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(reflect.New(sp.Result).Interface()); err != nil {
			t.Errorf("%s: reply does not decode into protocol.%s: %v\n%s", tc.method, sp.Result.Name(), err, raw)
		}
	}
}

// TestTypedCalls: the typed calls return what the daemon holds.
func TestTypedCalls(t *testing.T) {
	d := frameworktest.Start(t, frameworktest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := d.Dial(t)
	v, err := c.Version(ctx)
	if err != nil || v.Protocol != protocol.Version {
		t.Fatalf("Version: %+v, %v", v, err)
	}
	h, err := c.Health(ctx, true)
	if err != nil || h.You.Role != "root" || h.Methods[protocol.MethodSysVersion].OK != 1 {
		t.Fatalf("Health: role %q, sys.version calls %+v, %v; want root and 1 call", h.You.Role, h.Methods[protocol.MethodSysVersion], err)
	}
	uid := 10200
	if res, err := c.Report(ctx, protocol.ReportRecord{UID: &uid, Kind: "app_list_read", Category: "app_list", Result: "allowed"}); err != nil || res.Committed != 1 {
		t.Fatalf("Report: %+v, %v", res, err)
	}
	page, err := c.Query(ctx, protocol.QueryParams{Filter: protocol.Filter{UID: &uid}})
	if err != nil || len(page.Events) != 1 || page.Events[0].Kind != "app_list_read" || page.Events[0].UID != uid {
		t.Fatalf("Query: %+v, %v; want the one app_list_read row of uid %d", page, err, uid)
	}
	sum, err := c.Summary(ctx, protocol.SummaryParams{Filter: protocol.Filter{UID: &uid}})
	if err != nil || len(sum.Apps) != 1 || sum.Apps[0].Count != 1 {
		t.Fatalf("Summary: %+v, %v", sum, err)
	}
	if rep, err := c.Verify(ctx); err != nil || !rep.OK {
		t.Fatalf("Verify: %+v, %v", rep, err)
	}
	if _, err := c.Check(ctx, protocol.CheckParams{Category: "camera"}); err == nil {
		t.Fatal("Check without uid: no error")
	} else if re, ok := err.(*client.RPCError); !ok || re.Code != protocol.CodeInvalidParams {
		t.Fatalf("Check without uid: %v, want code %d", err, protocol.CodeInvalidParams)
	}
}
