package privacy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"

	"permd/aosp/privacy"
	"permd/aosp/privacy/privacytest"
	"permd/framework/protocol"
)

// TestFileSourceAnswersInProtocolTypes: every read the pages make of a
// pulled file decodes, unknown fields refused, into the result type the
// daemon's contract gives the method, and ledger.query counts a cut page
// as the daemon does.
func TestFileSourceAnswersInProtocolTypes(t *testing.T) {
	src := fileSource(t)
	ctx := context.Background()
	for _, tc := range []struct{ method, params string }{
		{protocol.MethodLedgerSummary, `{"kind":"access"}`},
		{protocol.MethodLedgerTimeline, `{"kind":"access","bucket":"day"}`},
		{protocol.MethodLedgerQuery, `{"limit":3}`},
		{protocol.MethodLedgerExport, `{"limit":3}`},
		{protocol.MethodLedgerVerify, ``},
		{protocol.MethodGrantsCatalogue, `{"lang":"en"}`},
		{protocol.MethodGrantsCatalogue, ``},
	} {
		res, err := src.Call(ctx, tc.method, json.RawMessage(tc.params))
		if err != nil {
			t.Errorf("%s %s: %v", tc.method, tc.params, err)
			continue
		}
		sp, _ := protocol.Lookup(tc.method)
		dec := json.NewDecoder(bytes.NewReader(res))
		dec.DisallowUnknownFields()
		if err := dec.Decode(reflect.New(sp.Result).Interface()); err != nil {
			t.Errorf("%s from file does not decode into protocol.%s: %v\n%.300s", tc.method, sp.Result.Name(), err, res)
		}
	}

	var all, cut protocol.Page
	res, err := src.Call(ctx, protocol.MethodLedgerQuery, json.RawMessage(`{"kind":"access","limit":1000}`))
	if err != nil || json.Unmarshal(res, &all) != nil {
		t.Fatalf("query: %s %v", res, err)
	}
	res, err = src.Call(ctx, protocol.MethodLedgerQuery, json.RawMessage(`{"kind":"access","limit":1,"count":true}`))
	if err != nil || json.Unmarshal(res, &cut) != nil {
		t.Fatalf("query with count: %s %v", res, err)
	}
	if len(all.Events) < 2 || all.Next != "" {
		t.Fatalf("the fixture has %d access rows (next %q); want several on one page", len(all.Events), all.Next)
	}
	if cut.Total == nil || *cut.Total != int64(len(all.Events)) {
		t.Errorf("count of a cut page: %v, want %d", cut.Total, len(all.Events))
	}
}

// TestFileSourceRefusesWhatTheDaemonRefuses: the file source applies the
// daemon's rules for reads (protocol.PageLimit, NegativeTime, BucketOf),
// naming the field.
func TestFileSourceRefusesWhatTheDaemonRefuses(t *testing.T) {
	src := fileSource(t)
	for _, tc := range []struct{ method, params, field string }{
		{protocol.MethodLedgerQuery, `{"since_ms":-1}`, "since_ms"},
		{protocol.MethodLedgerSummary, `{"until_ms":-5}`, "until_ms"},
		{protocol.MethodLedgerQuery, `{"limit":1001}`, "limit"},
		{protocol.MethodLedgerExport, `{"limit":5001}`, "limit"},
		{protocol.MethodLedgerTimeline, `{"bucket":"week"}`, "bucket"},
	} {
		_, err := src.Call(context.Background(), tc.method, json.RawMessage(tc.params))
		if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.field)) {
			t.Errorf("%s %s: want an error naming %s, got %v", tc.method, tc.params, tc.field, err)
		}
	}
}

// fileSource is the file source over the ledger of a test daemon that
// has stopped, closed with the test.
func fileSource(t *testing.T) *privacy.File {
	t.Helper()
	f := privacytest.Start(t, nil)
	f.Stop(t)
	src, err := privacy.OpenFile(filepath.Join(f.DataDir, "permd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}
