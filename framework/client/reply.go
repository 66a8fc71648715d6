package client

import (
	"bytes"
	"strings"
)

// replyPrefix and replyResult frame every result permd writes:
// {"jsonrpc":"2.0","id":ID,"result":RESULT}. As with notifications, a
// caller's hot path is these lines, and a full decode (a scan to
// validate, a second to skip the result) cost more than the daemon's
// whole handling of sys.health, so a result line with a numeric id is
// split where the daemon put the fields; the result is handed on as
// sent, for the caller to decode. Any other line takes the general path.
const (
	replyPrefix = `{"jsonrpc":"2.0","id":`
	replyResult = `,"result":`
)

// splitResult splits a result line for the call with id.
func splitResult(line []byte) (id uint64, result []byte, ok bool) {
	rest, ok := bytes.CutPrefix(line, []byte(replyPrefix))
	if !ok || len(rest) == 0 || rest[len(rest)-1] != '}' {
		return 0, nil, false
	}
	i := 0
	for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
		id = id*10 + uint64(rest[i]-'0')
	}
	// At most 19 digits cannot overflow; a leading zero is not JSON.
	if i == 0 || i > 19 || (i > 1 && rest[0] == '0') || !bytes.HasPrefix(rest[i:], []byte(replyResult)) {
		return 0, nil, false
	}
	result = rest[i+len(replyResult) : len(rest)-1]
	if len(result) == 0 || valueLen(result) != len(result) {
		return 0, nil, false // not one value: more fields follow
	}
	return id, result, true
}

// valueLen returns the length of the JSON value that begins b, following
// strings (with their escapes) and nesting without validating: one pass
// over the bytes, where a decode makes two and builds what it reads. An
// unterminated value measures more than b.
func valueLen(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	switch b[0] {
	case '"':
		return stringLen(b)
	case '{', '[':
		depth := 0
		for i := 0; i < len(b); i++ {
			switch b[i] {
			case '"':
				i += stringLen(b[i:]) - 1
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
	for i < len(b) && strings.IndexByte(",}] \t\r\n", b[i]) < 0 {
		i++
	}
	return i
}

// stringLen returns the length of the JSON string that begins b.
func stringLen(b []byte) int {
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

// deliver hands a reply to the call waiting for it, if any still is.
func (c *Client) deliver(id uint64, r reply) {
	c.mu.Lock()
	ch := c.pending[id]
	c.mu.Unlock()
	if ch != nil {
		ch <- r
	}
}
