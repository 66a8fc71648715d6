package client

import (
	"encoding/json"
	"testing"
)

// TestSplitNotification checks the fast path against a full decode: it
// must split exactly the lines permd writes for notifications, give the
// same method and params a decode would, and leave every other line to
// the general path.
func TestSplitNotification(t *testing.T) {
	for _, tc := range []struct {
		line string
		fast bool
	}{
		{`{"jsonrpc":"2.0","method":"indicator.changed","params":{"seq":3,"resources":[]}}`, true},
		{`{"jsonrpc":"2.0","method":"x","params":[1,2]}`, true},
		{`{"jsonrpc":"2.0","method":"a\"b","params":{}}`, false},    // escaped method
		{`{"jsonrpc":"2.0","method":"x","params":3}`, false},        // params not structured
		{`{"jsonrpc":"2.0","method":"x"}`, false},                   // no params
		{`{"jsonrpc":"2.0","id":1,"result":{"method":"x"}}`, false}, // a reply
		{`{"jsonrpc":"2.0","method":"","params":{}}`, false},
		{`{"jsonrpc":"2.0","method":"x","params":{}} `, false}, // not ending in }
		{`{"method":"x","jsonrpc":"2.0","params":{}}`, false},  // other field order
	} {
		method, params, ok := splitNotification([]byte(tc.line))
		if ok != tc.fast {
			t.Errorf("%s: fast path %v, want %v", tc.line, ok, tc.fast)
			continue
		}
		if !ok {
			continue
		}
		var m struct {
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		if err := json.Unmarshal([]byte(tc.line), &m); err != nil {
			t.Fatal(err)
		}
		if method != m.Method || string(params) != string(m.Params) {
			t.Errorf("%s: split into %q %s, a decode gives %q %s", tc.line, method, params, m.Method, m.Params)
		}
	}
}
