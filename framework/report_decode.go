package framework

import (
	"bytes"
	"permd/framework/internal/jsonscan"
)

// fastReport reads ledger.report params of the usual shape,
// {"records":[record, ...]}, in one pass: a report carries up to a
// thousand records, and decoding them by reflection was most of a
// report's cost on the daemon. A record of the usual shape has known
// keys; strings of printable ASCII without escapes; integers;
// an object for detail. The server has already checked that the request
// line is valid JSON; on anything unusual ok is false and the caller
// decodes with encoding/json, so the records and the errors are those of
// encoding/json either way (a fuzz test holds the two equal).
func fastReport(b []byte) (recs []ReportRecord, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	key, i, ok := plainString(b, skipSpace(b, i+1))
	if !ok || key != "records" {
		return nil, false
	}
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return nil, false
	}
	i = skipSpace(b, i+1)
	if i >= len(b) || b[i] != '[' {
		return nil, false
	}
	recs = make([]ReportRecord, 0, bytes.Count(b[i:], []byte(`"uid"`)))
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		i++
	} else {
		for {
			var rec ReportRecord
			if rec, i, ok = parseRecord(b, i); !ok {
				return nil, false
			}
			recs = append(recs, rec)
			i = skipSpace(b, i)
			if i >= len(b) {
				return nil, false
			}
			if b[i] == ']' {
				i++
				break
			}
			if b[i] != ',' {
				return nil, false
			}
			i = skipSpace(b, i+1)
		}
	}
	i = skipSpace(b, i)
	if i >= len(b) || b[i] != '}' || skipSpace(b, i+1) != len(b) {
		return nil, false
	}
	return recs, true
}

// parseRecord reads one record of the usual shape starting at b[i] and
// returns it and the index after its closing brace.
func parseRecord(b []byte, i int) (rec ReportRecord, end int, ok bool) {
	end, ok = readFields(b, i, func(key []byte, i int) (int, bool) {
		switch string(key) {
		case "time_ms":
			v, j, ok := plainInt(b, i)
			rec.TimeMS = v
			return j, ok
		case "uid":
			v, j, ok := plainInt(b, i)
			u := int(v)
			rec.UID = &u
			return j, ok
		case "detail":
			j, ok := objectEnd(b, i)
			if ok {
				rec.Detail = bytes.Clone(b[i:j])
			}
			return j, ok
		}
		field := stringField(&rec, key)
		if field == nil {
			return i, false
		}
		s, j, ok := plainString(b, i)
		*field = s
		return j, ok
	})
	return rec, end, ok
}

// readFields reads the JSON object starting at b[i], which need not be
// valid JSON, calling field for each key, read with utf8String, with the
// index of its value (spaces skipped). field reads the value and returns
// the index after it, or false to give up. readFields returns the index
// after the closing brace, or false on anything malformed. A repeated key
// is passed again: overwriting keeps encoding/json's last-one-wins.
func readFields(b []byte, i int, field func(key []byte, i int) (next int, ok bool)) (end int, ok bool) {
	if i >= len(b) || b[i] != '{' {
		return i, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		key, j, ok := utf8String(b, i)
		if !ok {
			return i, false
		}
		i = skipSpace(b, j)
		if i >= len(b) || b[i] != ':' {
			return i, false
		}
		if i, ok = field(key, skipSpace(b, i+1)); !ok {
			return i, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1, true
		default:
			return i, false
		}
	}
}

// stringField returns the string field of rec named key on the wire, or
// nil for another key.
func stringField(rec *ReportRecord, key []byte) *string {
	switch string(key) {
	case "kind":
		return &rec.Kind
	case "category":
		return &rec.Category
	case "op":
		return &rec.Op
	case "result":
		return &rec.Result
	case "app_state":
		return &rec.AppState
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a string of printable ASCII with no escapes starting
// at b[i], and returns it and the index after its closing quote.
func plainString(b []byte, i int) (string, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return "", i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return string(b[i+1 : j]), j + 1, true
		case c == '\\' || c < 0x20 || c > 0x7e:
			return "", i, false
		}
	}
	return "", i, false
}

// plainInt reads an integer of at most 18 digits (no fraction, no
// exponent, no leading zero) starting at b[i].
func plainInt(b []byte, i int) (int64, int, bool) {
	j := i
	neg := j < len(b) && b[j] == '-'
	if neg {
		j++
	}
	start := j
	var v int64
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		v = v*10 + int64(b[j]-'0')
		j++
	}
	n := j - start
	if n == 0 || n > 18 || (n > 1 && b[start] == '0') {
		return 0, i, false
	}
	if j < len(b) && (b[j] == '.' || b[j] == 'e' || b[j] == 'E') {
		return 0, i, false
	}
	if neg {
		v = -v
	}
	return v, j, true
}

// objectEnd returns the index after the JSON object starting at b[i],
// following nested values and strings (with their escapes). It does not
// validate: callers get input encoding/json has already scanned, and on
// anything it cannot follow it reports false.
func objectEnd(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '{' {
		return i, false
	}
	n := jsonscan.ValueLen(b[i:])
	if n > len(b)-i {
		return i, false // unterminated
	}
	return i + n, true
}
