package framework

import (
	"encoding/json"

	"permd/framework/protocol"
)

// decodeOpStart is DecodeParams(raw, in) for op.start's params, which
// are on the path of every indicator notification, ahead of the push to
// subscribers. The shape the framework sends, an object of plain ASCII
// strings and integers under their exact keys, is read in one pass
// without reflection (report_decode.go's scanners); anything else, via
// included, goes to DecodeParams, whose errors name the field.
// FuzzDecodeOpStart holds the two to the same result or error.
func decodeOpStart(raw json.RawMessage, in *protocol.OpStartParams) error {
	if readOpStart(raw, in) {
		return nil
	}
	*in = protocol.OpStartParams{}
	return DecodeParams(raw, in)
}

// readOpStart reads params of the common shape into in and reports
// whether it could; false leaves in partly filled.
func readOpStart(b []byte, in *protocol.OpStartParams) bool {
	end, ok := readFields(b, skipSpace(b, 0), func(key []byte, i int) (int, bool) {
		switch string(key) {
		case "resource":
			s, j, ok := plainString(b, i)
			in.Resource = s
			return j, ok
		case "package":
			s, j, ok := plainString(b, i)
			in.Package = s
			return j, ok
		case "op":
			s, j, ok := plainString(b, i)
			in.Op = s
			return j, ok
		case "uid":
			v, j, ok := plainInt(b, i)
			n := int(v) // at most 18 digits: fits
			in.UID = &n
			return j, ok
		case "pid":
			v, j, ok := plainInt(b, i)
			in.PID = int(v)
			return j, ok
		}
		return i, false
	})
	return ok && skipSpace(b, end) == len(b)
}
