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
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	var seen uint8
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b)
	}
	for {
		key, j, ok := plainString(b, i)
		if !ok {
			return false
		}
		j = skipSpace(b, j)
		if j >= len(b) || b[j] != ':' {
			return false
		}
		j = skipSpace(b, j+1)
		var bit uint8
		switch key {
		case "resource", "package", "op":
			var s string
			s, j, ok = plainString(b, j)
			switch key {
			case "resource":
				bit, in.Resource = 1, s
			case "package":
				bit, in.Package = 2, s
			default:
				bit, in.Op = 4, s
			}
		case "uid", "pid":
			var v int64
			v, j, ok = plainInt(b, j)
			n := int(v) // at most 18 digits: fits
			if key == "uid" {
				bit, in.UID = 8, &n
			} else {
				bit, in.PID = 16, n
			}
		default:
			return false
		}
		if !ok || seen&bit != 0 {
			return false // a repeated key: encoding/json's rules, not these
		}
		seen |= bit
		j = skipSpace(b, j)
		if j >= len(b) {
			return false
		}
		if b[j] == '}' {
			return skipSpace(b, j+1) == len(b)
		}
		if b[j] != ',' {
			return false
		}
		i = skipSpace(b, j+1)
	}
}
