package framework

import (
	"unicode/utf8"

	"permd/framework/protocol"
)

// decodeCheckParams is DecodeParams for perm.check, the hot path. Params
// of the usual shape are read in place, as parseRequest reads the
// request line: json.Unmarshal's reflection into five fields was half of
// what the handler cost beyond sys.health.
func decodeCheckParams(params []byte, q *protocol.CheckParams) error {
	if readCheckParams(params, q) {
		return nil
	}
	*q = protocol.CheckParams{}
	return DecodeParams(params, q)
}

// readCheckParams reads params, which need not be valid JSON, into q
// when they are an object whose keys are exactly CheckParams's JSON
// names, uid an integer that fits an int and every other value a string
// without escapes. It returns false for anything else, which then takes
// DecodeParams's path, whose errors name the field: escapes, null, a
// number with a fraction or exponent, a key in another case, an unknown
// key, invalid UTF-8, malformed JSON.
// FuzzReadCheckParams holds it to DecodeParams.
func readCheckParams(b []byte, q *protocol.CheckParams) bool {
	i := skipSpace(b, 0)
	end, ok := readFields(b, i, func(key []byte, i int) (int, bool) {
		if string(key) == "uid" {
			v, j, ok := plainInt(b, i)
			if !ok {
				return j, false
			}
			n := int(v) // at most 18 digits: fits
			q.UID = &n
			return j, true
		}
		v, next, ok := utf8String(b, i)
		if !ok {
			return i, false
		}
		switch string(key) {
		case "package":
			q.Package = string(v)
		case "category":
			q.Category = string(v)
		case "op":
			q.Op = string(v)
		case "state":
			q.State = string(v)
		default:
			return i, false
		}
		return next, true
	})
	return ok && skipSpace(b, end) == len(b)
}

// utf8String reads the JSON string at b[i] when it has no escapes and is
// valid UTF-8 without control characters: its bytes are then its value.
// It returns the inside and the index just past the closing quote.
func utf8String(b []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	ascii := true
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			s = b[i+1 : j]
			if !ascii && !utf8.Valid(s) {
				return nil, 0, false
			}
			return s, j + 1, true
		case c < 0x20 || c == '\\':
			return nil, 0, false
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, 0, false
}
