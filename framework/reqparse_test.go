package framework

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzParseRequest holds parseRequest to encoding/json: whenever it
// takes a line, json.Unmarshal takes it too and reads the same request.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"sys.health"}`,
		`{"jsonrpc":"2.0","id":"a\"b","method":"perm.check","params":{"uid":10123,"package":"com.example","op":"android:camera"}}`,
		` { "id" : null , "method" : "x" , "jsonrpc" : "2.0" , "params" : [1, {"a":"]}"}] } `,
		`{"jsonrpc":"2.0","id":{"x":1},"method":"sys.health"}`,
		`{"jsonrpc":"2.0","id":1,"method":"sys.health","id":2}`,
		`{"jsonrpc":"2.0","ID":1,"method":"sys.health"}`,
		`{"jsonrpc":"2.0","id":1,"Method":"sys.health"}`,
		`{"jsonrpc":"2.0","id":1,"method":"sys.h\u0065alth"}`,
		`{"jsonrpc":"2\u002e0","id":1,"method":"sys.health"}`,
		`{"jsonrpc":"2.0","id":1,"method":null}`,
		`{"jsonrpc":"2.0","id":1,"method":""}`,
		`{"jsonrpc":"1.0","id":1,"method":"sys.health"}`,
		`{"jsonrpc":"2.0","id":1,"method":"sys.health","params":null}`,
		`{"jsonrpc":"2.0","id":-1.5e3,"method":"sys.health","extra":{"k":[true,false,null]}}`,
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}",
		`{"jſonrpc":"2.0","id":1,"method":"sys.health"}`,
		`{}`,
		`[]`,
		`42`,
		`{"jsonrpc":"2.0","id":1,"method":`,
		`{"jsonrpc":"2.0","id":1,"method":"sys.health"} x`,
	} {
		f.Add([]byte(s))
	}
	methods := map[string]Method{"sys.health": {Name: "sys.health"}, "perm.check": {Name: "perm.check"}}
	f.Fuzz(func(t *testing.T, line []byte) {
		var got request
		if !parseRequest(line, &got, methods) {
			return
		}
		var want request
		if err := json.Unmarshal(line, &want); err != nil {
			t.Fatalf("parseRequest took %q, which encoding/json refuses: %v", line, err)
		}
		if got.JSONRPC != want.JSONRPC || got.Method != want.Method || !bytes.Equal(got.ID, want.ID) || !bytes.Equal(got.Params, want.Params) ||
			(got.ID == nil) != (want.ID == nil) || (got.Params == nil) != (want.Params == nil) {
			t.Fatalf("%q: parsed %+v, encoding/json reads %+v", line, got, want)
		}
	})
}

// TestParseRequestTakesTheCommonLine: the line every client sends is read
// in place; the unusual ones are left to encoding/json.
func TestParseRequestTakesTheCommonLine(t *testing.T) {
	methods := map[string]Method{"sys.health": {Name: "sys.health"}}
	var req request
	if !parseRequest([]byte(`{"jsonrpc":"2.0","id":7,"method":"sys.health","params":{"detail":true}}`), &req, methods) {
		t.Fatal("the common request line was left to encoding/json")
	}
	if req.JSONRPC != "2.0" || string(req.ID) != "7" || req.Method != "sys.health" || string(req.Params) != `{"detail":true}` {
		t.Fatalf("parsed %+v", req)
	}
	for _, line := range []string{
		`{"jsonrpc":"2.0","ID":1,"method":"sys.health"}`,
		`{"jsonrpc":"2.0","id":1,"method":"sys.h\u0065alth"}`,
		`{"jsonrpc":"2.0","id":1,"method":"sys.health"} x`,
		`42`,
	} {
		if parseRequest([]byte(line), &request{}, methods) {
			t.Errorf("%s: taken in place, want it left to encoding/json", line)
		}
	}
}
