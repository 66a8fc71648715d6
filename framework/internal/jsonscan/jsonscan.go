// Package jsonscan measures JSON values in place, without decoding them:
// the request reader of the daemon and the reply reader of the Go client
// both skip values this way on their hot paths.
package jsonscan

// ValueLen returns the length of the JSON value that begins b, following
// strings (with their escapes) and nesting without validating: one pass
// over the bytes, where a decode makes two and builds what it reads. An
// unterminated value measures more than b.
func ValueLen(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	switch b[0] {
	case '"':
		return StringLen(b)
	case '{', '[':
		depth := 0
		for i := 0; i < len(b); i++ {
			switch b[i] {
			case '"':
				i += StringLen(b[i:]) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(b) + 1
	}
	i := 0 // a number or a literal
	for i < len(b) && !endsLiteral(b[i]) {
		i++
	}
	return i
}

// StringLen returns the length of the JSON string that begins b; an
// unterminated string measures more than b.
func StringLen(b []byte) int {
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b) + 1
}

func endsLiteral(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}
