package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// One shape for scripts (docs/permctl.md, "--json"):
//   - a list prints as {"items": [...], "next": "CURSOR"}, next empty
//     when nothing more matches; a few lists add named context beside
//     items (procs: "mode");
//   - a single thing (status, version, a grant just set, the indicator
//     snapshot, the preinstall audit, verify) prints as that object;
//   - every time is "..._ms" (Unix milliseconds); where the daemon also
//     gives an RFC 3339 string for people, the string stays and its
//     "_ms" twin is added.

// printList prints items (a slice) in the list envelope, with extra
// named fields beside it.
func (e *env) printList(items any, next string, extra ...any) error {
	b, err := json.Marshal(items)
	if err != nil {
		return err
	}
	if string(b) == "null" {
		b = []byte("[]")
	}
	out := map[string]any{"items": json.RawMessage(b), "next": next}
	for i := 0; i+1 < len(extra); i += 2 {
		out[extra[i].(string)] = extra[i+1]
	}
	return e.printJSON(out)
}

// printObject prints a daemon result object with "_ms" twins added to
// its RFC 3339 times.
func (e *env) printObject(raw json.RawMessage) error {
	v, err := decodeNumbers(raw)
	if err != nil {
		return err
	}
	return e.printJSON(withMS(v))
}

func decodeNumbers(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// withMS walks v and, beside every RFC 3339 string field "x", adds
// "x_ms" unless the object has one already.
func withMS(v any) any {
	switch x := v.(type) {
	case map[string]any:
		add := map[string]int64{}
		for k, f := range x {
			if s, ok := f.(string); ok && !strings.HasSuffix(k, "_ms") && len(s) >= 20 && s[4] == '-' && s[10] == 'T' {
				if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
					if _, has := x[k+"_ms"]; !has {
						add[k+"_ms"] = t.UnixMilli()
					}
				}
				continue
			}
			x[k] = withMS(f)
		}
		for k, ms := range add {
			x[k] = ms
		}
	case []any:
		for i := range x {
			x[i] = withMS(x[i])
		}
	}
	return v
}
