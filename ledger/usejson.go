package ledger

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// appendUseRecs appends recs as a JSON array in the form encoding/json
// gives []Record, which restartUses reads back with json.Unmarshal. The
// writer builds it for every use that begins, in the commit op.start
// waits for; by hand it costs a fraction of encoding/json's reflection
// (BenchmarkUseRecs). A detail that is not valid JSON is refused, as
// encoding/json would refuse it.
func appendUseRecs(b []byte, recs []Record) ([]byte, error) {
	b = append(b, '[')
	for i, r := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"Time":"`...)
		b = r.Time.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `","UID":`...)
		b = strconv.AppendInt(b, int64(r.UID), 10)
		for _, f := range [...]struct{ name, v string }{
			{`,"Kind":`, r.Kind}, {`,"Category":`, r.Category}, {`,"Op":`, r.Op},
			{`,"Result":`, r.Result}, {`,"AppState":`, r.AppState},
		} {
			b = append(b, f.name...)
			b = appendJSONString(b, f.v)
		}
		b = append(b, `,"Detail":`...)
		if len(r.Detail) == 0 {
			b = append(b, "null"...)
		} else {
			if !json.Valid(r.Detail) {
				return nil, &json.UnsupportedValueError{Str: "detail of a " + r.Kind + " record is not JSON"}
			}
			b = append(b, r.Detail...)
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD (as
// encoding/json does), everything else as it is.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
