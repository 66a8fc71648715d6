package framework

import (
	"encoding/json"
	"strings"
	"testing"
)

// fuzzParams has the shapes request params and config files take: an
// embedded struct, pointers, arrays of objects, maps, durations.
type fuzzParams struct {
	fuzzFilter
	Cursor  string `json:"cursor"`
	Records []struct {
		UID    *int            `json:"uid"`
		Kind   string          `json:"kind"`
		Detail json.RawMessage `json:"detail"`
		Via    []struct {
			PID int `json:"pid"`
		} `json:"via"`
	} `json:"records"`
	Labels map[string]struct {
		On int `json:"on"`
	} `json:"labels"`
	Limits struct {
		Idle Duration `json:"idle_timeout"`
		Max  int      `json:"max_batch"`
	} `json:"limits"`
}

type fuzzFilter struct {
	Since int64 `json:"since_ms"`
	UID   *int  `json:"uid"`
}

// FuzzInvalidParamsField: whatever a client sends, a type error or an
// unknown key is named by a path that exists in what it sent.
func FuzzInvalidParamsField(f *testing.F) {
	for _, s := range []string{
		`{"since_ms":"x"}`, `{"uid":true}`, `{"records":[{"uid":1},{"via":[{"pid":"x"}]}]}`,
		`{"labels":{"en":{"on":"x"}}}`, `{"limits":{"idle_timeout":5}}`, `{"records":[{"bogus":1}]}`,
		`{"SINCE_MS":"x"}`, `{"uid":1,"uid":"x"}`, `{"records":[{"detail":{"a":[1,{"b":2}]},"kind":3}]}`,
		"{\"\x7f\":{}}", `{"lABels":{"":{"0":""}}}`, `{"lABels":{"0":""}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var p fuzzParams
		err := DecodeParams(json.RawMessage(in), &p)
		var sent any
		if err == nil || json.Unmarshal([]byte(in), &sent) != nil || !plainKeys(sent) {
			return
		}
		e, ok := err.(*Error)
		if !ok {
			t.Fatalf("%s: error %T %v, want *Error", in, err, err)
		}
		field := e.field()
		if field == "params" {
			return // the params as a whole (not an object, or malformed)
		}
		if !fieldIn(sent, field) {
			t.Fatalf("%s: error names %q, not a path in the request (%s)", in, field, e.Message)
		}
	})
}

// plainKeys reports whether every object key in v can be written in a
// dotted path: a key holding '.', '[' or ']' is named as sent, which a
// path cannot tell apart from nesting.
func plainKeys(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if strings.ContainsAny(k, ".[]") || !plainKeys(e) {
				return false
			}
		}
	case []any:
		for _, e := range t {
			if !plainKeys(e) {
				return false
			}
		}
	}
	return true
}
