package framework

import (
	"bytes"
	"encoding/json"
	"permd/framework/internal/jsonscan"
)

// parseRequest reads the common request line in place, without
// encoding/json's reflection and copies: it costs less than the rest of
// a sys.health call did. ID and Params are slices of line, valid as long
// as line is; a known method's name is the table's own string, so that
// nothing is allocated. It returns false for anything unusual, which
// then takes encoding/json's path: a line that is not valid JSON, escapes or
// non-ASCII bytes in a key, jsonrpc or method, a jsonrpc or method that
// is not a string, "2.0" spelt any other way, keys that differ from ours
// only in case (encoding/json would take them). FuzzParseRequest holds
// the two paths equal.
func parseRequest(line []byte, req *request, methods map[string]Method) bool {
	if !json.Valid(line) {
		return false
	}
	return eachMember(line, func(key, v []byte) bool {
		switch string(key) {
		case "jsonrpc":
			if string(v) != `"2.0"` {
				return false
			}
			req.JSONRPC = "2.0"
		case "method":
			if v[0] != '"' || !plainASCII(v[1:len(v)-1]) || len(v) == 2 {
				return false
			}
			if m, ok := methods[string(v[1:len(v)-1])]; ok {
				req.Method = m.Name
			} else {
				req.Method = string(v[1 : len(v)-1])
			}
		case "id":
			req.ID = v
		case "params":
			req.Params = v
		default:
			for _, k := range [...]string{"jsonrpc", "method", "id", "params"} {
				if bytes.EqualFold(key, []byte(k)) {
					return false
				}
			}
		}
		return true
	})
}

// eachMember calls f with each key (the bytes between its quotes, which
// are plain ASCII) and value of the JSON object b, which must be valid
// JSON. It returns false, having stopped, when f does, when a key has
// escapes or other than printable ASCII, or when b is not an object.
func eachMember(b []byte, f func(key, value []byte) bool) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if b[i] == '}' {
		return true
	}
	for {
		// b is valid JSON, so a key string, a colon and a value follow.
		end := stringEnd(b, i)
		key := b[i+1 : end-1]
		if !plainASCII(key) {
			return false
		}
		i = skipSpace(b, end)
		i = skipSpace(b, i+1) // the colon
		vend := valueEnd(b, i)
		if !f(key, b[i:vend]) {
			return false
		}
		i = skipSpace(b, vend)
		if b[i] == '}' {
			return true
		}
		i = skipSpace(b, i+1) // the comma
	}
}

// plainASCII reports whether s, the inside of a JSON string, has no
// escapes and only printable ASCII: it then means what its bytes say.
func plainASCII(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// stringEnd returns the index just past the string that starts at b[i],
// in valid JSON.
func stringEnd(b []byte, i int) int { return i + jsonscan.StringLen(b[i:]) }

// valueEnd returns the index just past the value that starts at b[i], in
// valid JSON (objectEnd, for reports, also copes with JSON it has not
// seen validated).
func valueEnd(b []byte, i int) int { return i + jsonscan.ValueLen(b[i:]) }
