package framework

import (
	"strconv"

	"permd/framework/protocol"
)

// decisionReply is perm.check's result as the handler returns it: the
// wire Decision, which appendReply writes without encoding/json's
// reflection when its strings need no escaping (they are our own codes
// and a checked package name). Anything else goes to encoding/json,
// which writes a decisionReply exactly as a protocol.Decision.
// FuzzDecisionReply holds the two equal.
type decisionReply protocol.Decision

// appendResult appends a result that has a hand-written encoding and
// reports whether it did; appendReply takes encoding/json's path for
// everything else.
func appendResult(b []byte, v any) ([]byte, bool) {
	if d, ok := v.(decisionReply); ok {
		return d.appendJSON(b)
	}
	return b, false
}

func (d *decisionReply) appendJSON(b []byte) ([]byte, bool) {
	if !plainText(d.Result) || !plainText(d.Reason) || !plainText(d.Package) || !plainText(d.Category) ||
		!plainText(d.Level) || !plainText(d.Effect) || !plainText(d.Scope) || !plainText(d.AppState) {
		return b, false
	}
	for _, s := range d.Items {
		if !plainText(s) {
			return b, false
		}
	}
	str := func(b []byte, key, s string) []byte {
		b = append(b, key...)
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	b = append(b, `{"allowed":`...)
	b = strconv.AppendBool(b, d.Allowed)
	b = str(b, `,"result":`, d.Result)
	b = str(b, `,"reason":`, d.Reason)
	if d.Package != "" {
		b = str(b, `,"package":`, d.Package)
	}
	b = str(b, `,"category":`, d.Category)
	if d.Level != "" {
		b = str(b, `,"level":`, d.Level)
	}
	if d.Effect != "" {
		b = str(b, `,"effect":`, d.Effect)
	}
	if d.RadiusM != 0 {
		b = append(b, `,"radius_m":`...)
		b = strconv.AppendInt(b, int64(d.RadiusM), 10)
	}
	if d.Scope != "" {
		b = str(b, `,"scope":`, d.Scope)
	}
	if len(d.Items) > 0 {
		b = append(b, `,"items":[`...)
		for i, s := range d.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = str(b, "", s)
		}
		b = append(b, ']')
	}
	b = append(b, `,"remaining":`...)
	b = strconv.AppendInt(b, d.Remaining, 10)
	b = str(b, `,"app_state":`, d.AppState)
	return append(b, '}'), true
}

// plainText reports whether s is printable ASCII without quotes or
// backslashes: encoding/json (without HTML escaping) writes it as it is.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
