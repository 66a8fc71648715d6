package framework

import (
	"encoding/json"
	"reflect"
	"testing"
)

// checkSame decodes params as ledger.report does when the one-pass
// reader declines (encoding/json, unknown fields refused) and checks that
// whatever the one-pass reader accepts, it reads the same way.
func checkSame(t *testing.T, params []byte) {
	t.Helper()
	var ref struct {
		Records []ReportRecord `json:"records"`
	}
	refErr := DecodeParams(params, &ref)
	fast, ok := fastReport(params)
	if !ok {
		return
	}
	if refErr != nil {
		t.Fatalf("%s: one-pass decode accepted what encoding/json refuses: %v", params, refErr)
	}
	if !reflect.DeepEqual(fast, ref.Records) {
		t.Fatalf("%s: one-pass %+v, encoding/json %+v", params, fast, ref.Records)
	}
}

var reportSeeds = []string{
	`{"records":[{"time_ms":1764100000000,"uid":10123,"kind":"access","category":"camera","op":"android:camera","result":"allowed","app_state":"foreground"}]}`,
	`{"records":[{"uid":10123,"kind":"self_start","category":"process","detail":{"reason":"alarm","n":[1,{"x":"}"}]}}]}`,
	`{"records":[{ "uid" : -0 , "kind" : "a" } , {"uid":5}]}`,
	`{"records":[{}]}`,
	`{"records":[{"UID":10123,"Kind":"access"}]}`,
	`{"records":[{"uid":"10123"}]}`,
	`{"records":[{"uid":10123.5}]}`,
	`{"records":[{"uid":1e3}]}`,
	`{"records":[{"uid":99999999999999999999}]}`,
	`{"records":[{"uid":1,"uid":2}]}`,
	`{"records":[{"uid":1,"bogus":2}]}`,
	`{"records":[{"uid":1,"kind":"a\"b","category":"\u00e9"}]}`,
	`{"records":[{"uid":1,"kind":"é"}]}`,
	`{"records":[{"uid":1,"detail":null}]}`,
	`{"records":[{"uid":1,"detail":"text"}]}`,
	`{"records":[{"uid":1,"detail":[1,2]}]}`,
	`{"records":[{"uid":null,"kind":null}]}`,
	`{"records":[{"time_ms":"x","uid":1}]}`,
	`{"records":[1,"x",null,[]]}`,
	`{"records":{}}`,
	`{"records":[{"uid":1}],"extra":1}`,
	` { "records" : [ ] } `,
	`{"records":[{"uid":1}],"records":[]}`,
	`{"Records":[{"uid":1}]}`,
	`{"records":null}`,
	`{}`,
}

func TestReportRecordDecodingMatchesEncodingJSON(t *testing.T) {
	for _, s := range reportSeeds {
		checkSame(t, []byte(s))
	}
	// The usual shape must take the one-pass path (else it saves nothing).
	if _, ok := fastReport([]byte(reportSeeds[0])); !ok {
		t.Fatal("a report of the usual shape missed the one-pass path")
	}
	if _, ok := fastReport([]byte(`{"records":[{"time_ms":1764100000000,"uid":10123,"kind":"access","category":"camera","op":"android:camera","result":"allowed","app_state":"foreground","detail":{"a":1}}]}`)); !ok {
		t.Fatal("a record with every field missed the one-pass path")
	}
}

func FuzzReportRecordDecoding(f *testing.F) {
	for _, s := range reportSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, params []byte) {
		if !json.Valid(params) {
			// The server refuses such lines before any handler runs;
			// the reader must still not fail on them.
			fastReport(params)
			return
		}
		checkSame(t, params)
	})
}
