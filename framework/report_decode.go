package framework

import "bytes"

// fastReport reads ledger.report params of the usual shape,
// {"records":[record, ...]}, in one pass: a report carries up to a
// thousand records, and decoding them by reflection was most of a
// report's cost on the daemon. A record of the usual shape has known
// keys, each once; strings of printable ASCII without escapes; integers;
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
	if i >= len(b) || b[i] != '{' {
		return rec, i, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return rec, i + 1, true
	}
	var seen uint8
	for {
		key, j, ok := plainString(b, i)
		if !ok {
			return rec, i, false
		}
		i = skipSpace(b, j)
		if i >= len(b) || b[i] != ':' {
			return rec, i, false
		}
		i = skipSpace(b, i+1)
		var bit uint8
		switch key {
		case "time_ms":
			bit = 1
			rec.TimeMS, j, ok = plainInt(b, i)
		case "uid":
			bit = 2
			var v int64
			v, j, ok = plainInt(b, i)
			u := int(v)
			rec.UID = &u
		case "detail":
			bit = 128
			j, ok = objectEnd(b, i)
			if ok {
				rec.Detail = bytes.Clone(b[i:j])
			}
		default:
			var field *string
			if field, bit = stringField(&rec, key); field != nil {
				*field, j, ok = plainString(b, i)
			}
		}
		if bit == 0 || !ok || seen&bit != 0 {
			return rec, i, false
		}
		seen |= bit
		i = skipSpace(b, j)
		if i >= len(b) {
			return rec, i, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return rec, i + 1, true
		default:
			return rec, i, false
		}
	}
}

// stringField returns the string field of rec named key on the wire
// and its bit in parseRecord's seen set, or nil for another key.
func stringField(rec *ReportRecord, key string) (*string, uint8) {
	switch key {
	case "kind":
		return &rec.Kind, 4
	case "category":
		return &rec.Category, 8
	case "op":
		return &rec.Op, 16
	case "result":
		return &rec.Result, 32
	case "app_state":
		return &rec.AppState, 64
	}
	return nil, 0
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
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1, true
			}
		case '"':
			for j++; j < len(b) && b[j] != '"'; j++ {
				if b[j] == '\\' {
					j++
				}
			}
			if j >= len(b) {
				return i, false
			}
		}
	}
	return i, false
}
