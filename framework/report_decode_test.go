package framework

import (
	"encoding/json"
	"reflect"
	"testing"
)

// plainRecord is ReportRecord without its UnmarshalJSON: the reference
// the fast decoder must agree with.
type plainRecord ReportRecord

// decodeBoth decodes params as ledger.report does, once with the fast
// record decoder and once by reflection alone.
func decodeBoth(params []byte) (fast []ReportRecord, fastErr error, ref []ReportRecord, refErr error) {
	var a struct {
		Records []ReportRecord `json:"records"`
	}
	fastErr = DecodeParams(params, &a)
	var b struct {
		Records []plainRecord `json:"records"`
	}
	refErr = DecodeParams(params, &b)
	if b.Records != nil {
		ref = make([]ReportRecord, len(b.Records))
		for i, r := range b.Records {
			ref[i] = ReportRecord(r)
		}
	}
	return a.Records, fastErr, ref, refErr
}

func checkSame(t *testing.T, params []byte) {
	t.Helper()
	fast, fastErr, ref, refErr := decodeBoth(params)
	if _, ok := fastReport(params); ok && refErr != nil {
		t.Fatalf("%s: one-pass decode accepted what encoding/json refuses: %v", params, refErr)
	}
	if (fastErr == nil) != (refErr == nil) {
		t.Fatalf("%s: fast error %v, reference error %v", params, fastErr, refErr)
	}
	if fastErr != nil {
		if !reflect.DeepEqual(fastErr, refErr) {
			t.Fatalf("%s: fast error %#v, reference error %#v", params, fastErr, refErr)
		}
		return
	}
	if !reflect.DeepEqual(fast, ref) {
		t.Fatalf("%s: fast %+v, reference %+v", params, fast, ref)
	}
	if whole, ok := fastReport(params); ok && !reflect.DeepEqual(whole, ref) {
		t.Fatalf("%s: one-pass %+v, reference %+v", params, whole, ref)
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
	if _, ok := fastReport([]byte(reportSeeds[0])); !ok {
		t.Fatal("a report of the usual shape missed the one-pass path")
	}
	// The usual shape must take the fast path (else it saves nothing).
	if _, ok := fastRecord([]byte(`{"time_ms":1764100000000,"uid":10123,"kind":"access","category":"camera","op":"android:camera","result":"allowed","app_state":"foreground","detail":{"a":1}}`)); !ok {
		t.Fatal("a record of the usual shape missed the fast path")
	}
}

func FuzzReportRecordDecoding(f *testing.F) {
	for _, s := range reportSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, params []byte) {
		if !json.Valid(params) {
			return // syntax errors are found before any record is decoded
		}
		checkSame(t, params)
		// Called directly (not through a decoder that has scanned the
		// input), the fast path must not misread invalid input either.
		if len(params) > 2 {
			var r ReportRecord
			_ = r.UnmarshalJSON(params[1 : len(params)-1])
		}
	})
}
